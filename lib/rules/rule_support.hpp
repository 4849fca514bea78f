// Small pieces several built-in rules share: Prefect's truthiness, the result-data predicates,
// api-version checks and policy rebuilding.
#pragma once
#include <optional>
#include <string>

#include "engine/context.hpp"
#include "engine/rule.hpp"
#include "engine/state_json.hpp"

namespace runctl {

// Python truthiness (engine/state_json.hpp's truthy) of a state's data, which may be absent.
inline bool truthy(const std::shared_ptr<Json>& data) {
  return data && truthy(*data);
}

// Flow predicate, Prefect's core_policy._has_persisted_result: data is an object whose "type" is
// not "unpersisted".
bool has_persisted_result(const std::shared_ptr<Json>& data);

// Task predicate, inline in Prefect's HandleTaskTerminalStateTransitions: data truthy and
// data.get("type") != "unpersisted". Prefect calls .get on whatever the data is, so truthy
// non-object data raises: this throws HookError then.
bool task_has_persisted_result(const std::shared_ptr<Json>& data);

// parameters["api-version"] is null/absent, or at least `minimum` ("0.8.4"): the "modern" client
// behaviour. An unparsable version raises (HookError), as Prefect's Version() does.
bool api_version_at_least(const Json& parameters, std::string_view minimum);
// parameters["api-version"] is present and older than `threshold`.
bool api_version_below(const Json& parameters, std::string_view threshold);

// Rebuilds the run's empirical_policy with `changes` merged in, as Prefect's model_validate of a
// dump with keys replaced (the deprecated max_retries / retry_delay_seconds back-fill runs again).
void update_run_policy(Run& run, const Json& changes);

// "StateType.PENDING": how Python >= 3.11 formats a StateType in an f-string.
std::string python_state_type(StateType t);

}  // namespace runctl
