// Result artifacts as Prefect makes them from a state's data (the SQLite backend does the same in
// sqlite_runs.cpp): which data gets one, and the artifact_* keys taken out of it.
#pragma once
#include <optional>
#include <string>

#include "engine/state.hpp"

namespace runctl::pg {

// Data of type "unpersisted" has no artifact.
bool is_unpersisted(const Json& data);

// Python truthiness, which decides whether a popped artifact field is kept.
bool truthy(const Json& j);

struct ArtifactFields {
  std::optional<std::string> key;
  std::optional<std::string> type;
  std::optional<std::string> description;
};

// Removes the three artifact_* keys from `data` in place, as Prefect does; all three are
// removed even when one of them is invalid. A truthy non-string value fails Prefect's model
// validation, not the database, so it is std::invalid_argument, not a runctl::Error: the engine
// turns it into ABORT "Error validating state: ...".
ArtifactFields take_artifact_fields(Json& data);

}  // namespace runctl::pg
