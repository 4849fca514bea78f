// One set-state, end to end: load the run, run the chain, write the result in one transaction.
// Shared by every command that changes a run's state (set-state, run creation).
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/chain.hpp"
#include "engine/state.hpp"
#include "policy/policy.hpp"
#include "service/store_services.hpp"
#include "store/database.hpp"
#include "util/error.hpp"

namespace runctl {

struct TransitionRequest {
  std::string run_id;
  StateProposal proposal;
  std::optional<std::string> policy_ref;  // built-in name/alias or file; none: the core policy
  bool force = false;
  Json parameters = Json::object();
  std::optional<std::string> client_version;
  // The proposed state's id and timestamp, when the caller proposes a state it already built:
  // Prefect's UpdateSubflowParentTask proposes its fresh copy of the subflow's state, and
  // validation writes that copy's id and timestamp. Otherwise the server mints both.
  std::optional<std::string> state_id;
  std::optional<Timestamp> state_timestamp;
  // --expect-state: the state types the run must be in (NONE for a run with no state) for the
  // transition to run at all; checked on the locked run before any rule runs.
  std::optional<StateTypeSet> expected_state;
  bool dry_run = false;
  bool trace = false;
  // Whether TransitionResult::proposed_state is filled (set-state prints it). Callers that only
  // need proposed_state_text (apply) skip building the Json tree.
  bool proposed_state_json = true;
};

struct TransitionResult {
  std::string run_id;
  RunKind run_kind = RunKind::kFlow;
  std::string policy;
  StatePtr initial_state;
  Json proposed_state;               // the proposal as received (before any rule touched it)
  std::string proposed_state_text;   // the same as compact JSON text, always filled
  std::string logged_proposal_text;  // the same as the log stores it (store/log_codec.hpp)
  StatePtr validated_state;
  SetStateStatus status = SetStateStatus::kAccept;
  ResponseDetails details;
  // The rule or transform that set the final status or replaced the proposal (its interned
  // name, engine/signature.hpp); null for a transition no entry redirected.
  const std::string* decided_by = nullptr;
  Signature rule_signature;
  Signature finalization_signature;
  int rule_signature_transforms = 0;  // how many of rule_signature's names are transforms
  int finalization_signature_transforms = 0;
  Json parameters = Json::object();
  std::vector<std::string> side_effects;
  std::optional<std::string> error;  // a hook raised: everything was rolled back
  bool dry_run = false;
  Trace trace;
  std::int64_t duration_us = 0;
};

// A policy made ready to run many transitions of one run kind (apply): its transforms resolved
// once and its entries compiled once per intended transition, where set-state does both per call.
class PreparedPolicy {
 public:
  PreparedPolicy(Policy policy, RunKind kind);

  const Policy& policy() const { return policy_; }
  const std::vector<PolicyEntry>& transforms() const { return transforms_; }
  // The entries that fire for from -> to, compiled on first use.
  const CompiledChain& compiled(MaybeType from, MaybeType to) const;

 private:
  static constexpr int kTypes = kStateTypeCount + 1;  // the nine types and NONE
  Policy policy_;
  std::vector<PolicyEntry> transforms_;
  mutable std::array<std::optional<CompiledChain>, kTypes * kTypes> compiled_;
};

// Runs one transition in its own write transaction, the run locked for update. On a hook error
// everything is rolled back and only the orchestration_log row is written; with dry_run nothing
// is written. A lost race (ErrorReason::kRetryable) runs the whole transition again, a bounded
// number of times. Throws Error for bad input (unknown run: kNotFound; bad policy: kBadPolicy)
// with nothing written.
TransitionResult set_state(Database& db, const TransitionRequest& request, const Environment& env);

// The same, inside a transaction the caller holds, on a run already loaded (and locked): the
// caller commits or rolls back. Writes the run and the log row unless the chain raised.
TransitionResult apply_transition(Database& db, Run& run, const Policy& policy,
                                  const TransitionRequest& request, const Environment& env);
TransitionResult apply_transition(Database& db, Run& run, const PreparedPolicy& policy,
                                  const TransitionRequest& request, const Environment& env);

// The refusal of a request whose expected_state the run is not in (kUnexpectedState, "run ID is
// RUNNING, not PENDING or SCHEDULED"), or nothing when the request may run.
std::optional<Error> unexpected_state(const Run& run, const TransitionRequest& request);

// "RUNNING,PENDING" (case-insensitive, NONE for no state) as a set; throws Error(kBadData) naming
// `what` for an unknown or empty type.
StateTypeSet parse_expected_state(std::string_view text, const std::string& what);

// How many times in all a transition that lost a race (deadlock, serialization failure) is run.
inline constexpr int kTransitionAttempts = 5;

// The orchestration_log row of a transition whose chain raised, written after the rollback: the
// attempt is logged, pointing at no state.
LogEntry failed_transition_log_entry(const TransitionResult& result, const Environment& env,
                                     bool forced);

}  // namespace runctl
