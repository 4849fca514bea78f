// The concurrency rows as JSON, in the shapes of Prefect's API: runctl's output contract for the
// concurrency, deployment, lease and events commands (docs/concurrency.md).
#pragma once
#include <optional>
#include <string>

#include "engine/concurrency_records.hpp"
#include "engine/state.hpp"

namespace runctl {

// JSON forms, as Prefect's API shapes them (runctl's output contract for the concurrency
// commands). A lease's "expired" and a limit's holders are runctl's additions.
Json v1_limit_to_json(const V1Limit& l);
Json v2_limit_to_json(const V2Limit& l);
Json lease_to_json(const Lease& l, Timestamp now);
Json concurrency_options_to_json(const std::optional<ConcurrencyOptions>& o);
// Its inverse, for a stored deployment row: nullopt for null. A value no writer makes leaves
// `problem` saying what is wrong with it (and returns nullopt); the store reports it as bad data.
std::optional<ConcurrencyOptions> concurrency_options_from_json(const Json& options,
                                                                std::string& problem);
// Prefect's Event fields: occurred, event, resource, related, payload, id, follows.
Json event_to_json(const Event& e);

}  // namespace runctl
