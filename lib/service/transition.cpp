#include "service/transition.hpp"

#include <algorithm>
#include <chrono>

#include "engine/rule.hpp"
#include "engine/state_json.hpp"
#include "engine/state_text.hpp"
#include "util/error.hpp"

namespace runctl {
namespace {

LogEntry log_entry_for(const TransitionResult& r, const Environment& env, bool forced) {
  LogEntry e;
  e.run_id = r.run_id;
  e.run_kind = r.run_kind;
  e.at = env.clock.now();
  if (r.initial_state) e.initial_type = r.initial_state->type;
  e.proposed_state_text = r.logged_proposal_text;
  e.status = std::string(status_name(r.status));
  e.details = response_details_to_json(r.details);
  if (r.decided_by) e.decided_by = *r.decided_by;
  if (r.validated_state) e.validated_state_id = r.validated_state->id;
  e.rule_signature = r.rule_signature;
  e.finalization_signature = r.finalization_signature;
  e.error = r.error;
  e.duration_us = r.duration_us;
  e.policy = r.policy;
  e.forced = forced;
  return e;
}

// A proposal stamped before the run's current state would put the history out of order (and
// end_time before start_time): refused before the chain runs, so nothing is written, forced or
// not. A clock that lags only by the 1 µs bumps EnsureFlowRunStateTimestampIsUnique gave earlier
// states of a flow run is one fixed --now reused, which Prefect allows: the bump moves past them.
void check_time_order(const Context& c, Services& services) {
  if (!c.initial_state) return;
  const Timestamp current = c.initial_state->timestamp;
  Timestamp t = c.proposed_state->timestamp;
  if (c.kind == RunKind::kFlow)
    while (t < current && services.flow_state_timestamp_taken(c.run->id, t)) ++t;
  if (t >= current) return;
  const std::string at = format_timestamp(current);
  throw Error(ErrorKind::kBadData, "run " + c.run->id + ": the clock (" +
                                       format_timestamp(c.proposed_state->timestamp) +
                                       ") is earlier than its current state (" +
                                       std::string(type_name(c.initial_state->type)) + " at " + at +
                                       "); give a --now at or after " + at);
}

// The one implementation behind both apply_transition overloads. `prepared` is null when the
// caller has not prepared the policy: the chain is then compiled here, for this call only.
TransitionResult run_transition(Database& db, Run& run, const Policy& policy,
                                const std::vector<PolicyEntry>& transforms,
                                const PreparedPolicy* prepared, const TransitionRequest& request,
                                const Environment& env) {
  const auto started = std::chrono::steady_clock::now();
  TransitionResult result;
  result.run_id = run.id;
  result.run_kind = run.kind;
  result.policy = policy.name;
  result.dry_run = request.dry_run;

  Context c;
  c.kind = run.kind;
  c.run = &run;
  c.initial_state = db.runs().load_current_state(run);
  c.proposed_state = make_state(
      request.proposal, request.state_id ? *request.state_id : env.uuids.next(), env.clock.now());
  if (request.state_timestamp) c.proposed_state->timestamp = *request.state_timestamp;
  c.parameters = request.parameters;
  c.client_version = request.client_version;
  c.clock = &env.clock;
  c.uuids = &env.uuids;
  c.random = &env.random;
  StoreServices services(db, env);
  c.services = &services;
  c.trace = request.trace ? &result.trace : nullptr;
  // A state the caller built (a subflow's, mirrored) keeps its own time.
  if (!request.state_timestamp) check_time_order(c, services);

  result.initial_state =
      c.initial_state ? std::make_shared<State>(c.initial_state->deep_copy()) : nullptr;
  append_state_text(result.proposed_state_text, *c.proposed_state);
  append_stored_state_text(result.logged_proposal_text, *c.proposed_state);
  if (request.proposed_state_json) result.proposed_state = state_to_json(*c.proposed_state);

  ChainOutcome outcome = prepared
                             ? orchestrate(prepared->compiled(c.initial_type(), c.proposed_type()),
                                           policy.rules, transforms, c)
                             : orchestrate(policy.rules, transforms, c);
  if (outcome.escaped) {
    try {
      std::rethrow_exception(outcome.escaped);
    } catch (const RetryableError& e) {
      throw Error(ErrorKind::kBusy, e.what());
    } catch (const Error& e) {
      // The store's own failures (I/O, constraint) are not hook errors. A reused fixed clock is
      // the usual cause of a timestamp collision, which only flow runs are bumped past; said
      // once, by the caller's own transition (not by a nested one, which keeps its stamp).
      if (e.reason() == ErrorReason::kStateTimestampTaken && !request.state_timestamp)
        throw Error(e.kind(),
                    std::string(e.what()) +
                        ": give each call its own, later --now (only a flow run's new state is "
                        "moved on by 1 µs, as in Prefect)",
                    e.reason());
      throw;
    } catch (...) {
    }
  }

  result.validated_state = outcome.error ? nullptr : c.validated_state;
  result.status = c.response_status;
  result.details = c.response_details;
  result.decided_by = c.decided_by;
  result.rule_signature_transforms = c.rule_signature_transforms;
  result.finalization_signature_transforms = c.finalization_signature_transforms;
  result.rule_signature = std::move(c.rule_signature);
  result.finalization_signature = std::move(c.finalization_signature);
  result.parameters = std::move(c.parameters);
  result.side_effects = std::move(c.side_effects);
  result.error = outcome.error;
  result.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  if (!result.error) {
    db.runs().update_run(run);
    LogEntry entry = log_entry_for(result, env, request.force);
    entry.event = services.take_event();
    db.runs().append_log(entry);
  }
  return result;
}

}  // namespace

PreparedPolicy::PreparedPolicy(Policy policy, RunKind kind)
    : policy_(std::move(policy)), transforms_(transforms_for(policy_, kind)) {}

const CompiledChain& PreparedPolicy::compiled(MaybeType from, MaybeType to) const {
  const auto index = [](MaybeType t) { return t ? static_cast<int>(*t) : kStateTypeCount; };
  std::optional<CompiledChain>& slot = compiled_[index(from) * kTypes + index(to)];
  if (!slot)
    slot = CompiledChain{compile_transition_rules(policy_.rules, from, to),
                         compile_transition_rules(transforms_, from, to)};
  return *slot;
}

TransitionResult apply_transition(Database& db, Run& run, const Policy& policy,
                                  const TransitionRequest& request, const Environment& env) {
  return run_transition(db, run, policy, transforms_for(policy, run.kind), nullptr, request, env);
}

TransitionResult apply_transition(Database& db, Run& run, const PreparedPolicy& policy,
                                  const TransitionRequest& request, const Environment& env) {
  return run_transition(db, run, policy.policy(), policy.transforms(), &policy, request, env);
}

std::optional<Error> unexpected_state(const Run& run, const TransitionRequest& request) {
  if (!request.expected_state || request.expected_state->contains(run.state_type))
    return std::nullopt;
  std::string expected;
  std::size_t left = 0;
  request.expected_state->for_each([&](MaybeType) { ++left; });
  request.expected_state->for_each([&](MaybeType t) {
    --left;
    if (!expected.empty()) expected += left == 0 ? " or " : ", ";
    expected += type_name(t);
  });
  const std::string is =
      run.state_type ? "is " + std::string(type_name(run.state_type)) : std::string("has no state");
  return Error(ErrorKind::kUnexpectedState,
               "run " + run.id + " " + is + ", expected " + expected + " (nothing was written)");
}

StateTypeSet parse_expected_state(std::string_view text, const std::string& what) {
  StateTypeSet set;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    const std::optional<MaybeType> type = parse_maybe_type(item);
    if (!type)
      throw Error(ErrorKind::kBadData,
                  what + ": unknown state type \"" + std::string(item) +
                      "\" (expected a comma-separated list of SCHEDULED, PENDING, RUNNING, "
                      "COMPLETED, FAILED, CANCELLED, CRASHED, PAUSED, CANCELLING or NONE)");
    set.add(*type);
    start = comma + 1;
  }
  return set;
}

LogEntry failed_transition_log_entry(const TransitionResult& result, const Environment& env,
                                     bool forced) {
  LogEntry entry = log_entry_for(result, env, forced);
  entry.validated_state_id.reset();
  return entry;
}

namespace {

TransitionResult set_state_once(Database& db, const TransitionRequest& request,
                                const Environment& env) {
  WriteTransaction tx(db);
  std::optional<Run> run = db.runs().find_run(request.run_id, RowLock::kForUpdate);
  if (!run) throw Error(ErrorKind::kNotFound, "run " + request.run_id + " not found");
  if (std::optional<Error> refused = unexpected_state(*run, request)) throw *refused;
  const bool deferred = request.proposal.details.deferred.value_or(false);
  const Policy policy = choose_policy(run->kind, request.policy_ref, request.force, deferred);

  TransitionResult result = apply_transition(db, *run, policy, request, env);
  if (request.dry_run) {
    tx.rollback();
  } else if (result.error) {
    // Prefect re-raises and the request's transaction is rolled back; the attempt is still logged.
    tx.rollback();
    WriteTransaction log_tx(db);
    db.runs().append_log(failed_transition_log_entry(result, env, request.force));
    log_tx.commit();
  } else {
    tx.commit();
  }
  return result;
}

}  // namespace

TransitionResult set_state(Database& db, const TransitionRequest& request, const Environment& env) {
  for (int attempt = 1;; ++attempt) {
    try {
      return set_state_once(db, request, env);
    } catch (const Error& e) {
      if (e.reason() != ErrorReason::kRetryable || attempt >= kTransitionAttempts) throw;
    }
  }
}

}  // namespace runctl
