// JSON forms of states, details and responses: runctl's output contract and its storage format.
#pragma once
#include <string>

#include "engine/response.hpp"
#include "engine/state.hpp"

namespace runctl {

// Every StateDetails field, nulls included, timestamps as ISO 8601.
Json state_details_to_json(const StateDetails& d);

// Python truthiness of a JSON value: null, false, 0, "", [] and {} are false.
bool truthy(const Json& value);

// Sets the fields present in `object` onto `details`, checking each one's type (UUID fields must
// be UUIDs, times ISO 8601). Unknown keys are ignored, as Prefect's model does; an explicit null
// overwrites. Throws Error(kBadData) naming `where` and the field.
void apply_state_details(const Json& object, StateDetails& details, const std::string& where);

// For input (--details, an apply line's or a policy file's state_details): throws
// Error(kBadData, "WHERE: unknown key \"K\" (did you mean ...?)") for a key that is no
// StateDetails field, where apply_state_details would ignore it. A misspelt scheduled_time must
// not schedule the run for now.
void check_state_details_keys(const Json& object, const std::string& where);

// {"id", "type", "name", "message", "timestamp", "state_details", "data"}
Json state_to_json(const State& s);
Json state_to_json(const StatePtr& s);  // null for no state

// {"type": "reject_details", "reason": ..., "delay_seconds": ...}
Json response_details_to_json(const ResponseDetails& d);

}  // namespace runctl
