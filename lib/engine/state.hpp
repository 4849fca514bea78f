// A run's state, as Prefect's State and StateDetails schemas have it
// (prefect.server.schemas.states).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/state_type.hpp"
#include "util/time.hpp"

namespace runctl {

using Json = nlohmann::ordered_json;

// Every StateDetails field of Prefect; defaults are Prefect's.
struct StateDetails {
  std::optional<std::string> flow_run_id;
  std::optional<std::string> task_run_id;
  std::optional<std::string> child_flow_run_id;
  std::optional<Timestamp> scheduled_time;
  std::optional<std::string> cache_key;
  std::optional<Timestamp> cache_expiration;
  std::optional<bool> deferred = false;
  bool untrackable_result = false;
  std::optional<Timestamp> pause_timeout;
  bool pause_reschedule = false;
  std::optional<std::string> pause_key;
  std::optional<Json> run_input_keyset;  // map<string, string>
  std::optional<bool> refresh_cache;
  std::optional<bool> retriable;
  std::optional<std::string> transition_id;
  std::optional<std::string> task_parameters_id;
  std::optional<std::string> traceparent;
  std::optional<std::string> deployment_concurrency_lease_id;

  bool operator==(const StateDetails&) const = default;
};

// Copying a State is Prefect's shallow copy: the copy shares its details and data with the original
// (OrchestrationContext.safe_copy), so rules that edit a details field through their copy edit the
// real proposal, while re-assigning a top-level field only changes the copy. deep_copy() shares
// nothing.
struct State {
  std::string id;
  StateType type = StateType::kPending;
  std::string name;
  Timestamp timestamp = 0;
  std::optional<std::string> message;
  std::shared_ptr<StateDetails> details = std::make_shared<StateDetails>();
  std::shared_ptr<Json> data;  // null pointer = no data

  State deep_copy() const;
};

using StatePtr = std::shared_ptr<State>;

inline MaybeType type_of(const StatePtr& s) {
  return s ? MaybeType(s->type) : MaybeType();
}

// What a caller supplies for a new state; the server mints id and timestamp.
struct StateProposal {
  StateType type = StateType::kPending;
  std::optional<std::string> name;
  std::optional<std::string> message;
  StateDetails details;
  std::optional<Json> data;
};

// Builds a state as Prefect's server does: default name from the type, scheduled_time = now for
// a SCHEDULED state that has none.
StatePtr make_state(const StateProposal& proposal, std::string id, Timestamp now);

}  // namespace runctl
