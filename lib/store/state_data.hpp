// What both backends do with a state's data before it is stored: its text, and the result
// artifact Prefect's validate_proposed_state makes from it (which data gets one, and the
// artifact_* keys taken out of it).
#pragma once
#include <optional>
#include <string>

#include "engine/state.hpp"

namespace runctl {

// A Json value as stored: compact, invalid UTF-8 replaced rather than refused.
std::string to_text(const Json& j);

// Data of type "unpersisted" has no artifact.
bool is_unpersisted(const Json& data);

struct ArtifactFields {
  std::optional<std::string> key;
  std::optional<std::string> type;
  std::optional<std::string> description;
};

// Removes the three artifact_* keys from `data` in place, as Prefect does before building the
// artifact; all three are removed even when one of them is invalid. A truthy non-string value
// fails Prefect's model validation, not the database, so it is std::invalid_argument, not a
// runctl::Error: the engine turns it into ABORT "Error validating state: ...".
ArtifactFields take_artifact_fields(Json& data);

}  // namespace runctl
