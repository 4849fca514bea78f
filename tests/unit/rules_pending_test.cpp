// lib/rules/pending.cpp: PreventPendingTransitions through the chain runner, after Prefect's
// TestPreventPendingTransitions (tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include "engine_fixture.hpp"
#include "rules/registry.hpp"

namespace runctl::testing {
namespace {

const std::vector<StateType> kBanned = {kCancelling, kCancelled, kRunning, kPending};

PolicyEntry builtin(std::string_view name) {
  const BuiltinEntry* e = find_builtin_entry(name);
  REQUIRE(e != nullptr);
  return e->entry;
}

std::string abort_reason(StateType from) {
  return "This run is in a " + name_of(from) + " state and cannot transition to a PENDING state.";
}

TEST_CASE("PreventPendingTransitions: CANCELLING/CANCELLED/RUNNING/PENDING -> PENDING aborts") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    for (StateType from : kBanned) {
      CAPTURE(kind_name(kind));
      CAPTURE(name_of(from));
      Harness h(from, kPending, kind);
      const std::string initial_id = h.ctx.initial_state->id;
      h.run_chain({builtin("PreventPendingTransitions")});
      CHECK(name_of(h.ctx.response_status) == "ABORT");
      CHECK(h.ctx.response_details == ResponseDetails::abort(abort_reason(from)));
      REQUIRE(h.ctx.validated_state);
      CHECK(h.ctx.validated_state->id == initial_id);
      CHECK(h.services.written_ids.empty());
      // Aborted: to-type null is outside TO = {PENDING}, so no after hook.
      CHECK(h.ctx.rule_signature == std::vector<std::string>{"PreventPendingTransitions"});
      CHECK(h.ctx.finalization_signature.empty());
    }
  }
}

TEST_CASE("PreventPendingTransitions: every other ordered pair of types is accepted") {
  for (StateType from : all_types()) {
    for (StateType to : all_types()) {
      if (to == kPending && std::find(kBanned.begin(), kBanned.end(), from) != kBanned.end())
        continue;
      CAPTURE(name_of(from));
      CAPTURE(name_of(to));
      Harness h(from, to, RunKind::kFlow);
      h.run_chain({builtin("PreventPendingTransitions")});
      CHECK(name_of(h.ctx.response_status) == "ACCEPT");
      CHECK(name_of(h.ctx.validated_state) == name_of(to));
    }
  }
  // No state yet -> PENDING: not compiled.
  Harness h(std::nullopt, kPending, RunKind::kFlow);
  h.run_chain({builtin("PreventPendingTransitions")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(h.ctx.rule_signature.empty());
}

TEST_CASE("PreventPendingTransitions: progress through named PENDING sub-states is accepted") {
  struct Pair {
    const char* initial;
    const char* proposed;
  };
  for (const Pair& p : {Pair{"Pending", "Submitting"}, Pair{"Submitting", "InfrastructurePending"},
                        Pair{"Pending", "InfrastructurePending"}}) {
    CAPTURE(p.initial);
    CAPTURE(p.proposed);
    Harness h(kPending, kPending, RunKind::kFlow);
    h.ctx.initial_state->name = p.initial;
    h.ctx.proposed_state->name = p.proposed;
    h.run_chain({builtin("PreventPendingTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(h.ctx.validated_state->name == p.proposed);
    CHECK(h.ctx.finalization_signature == std::vector<std::string>{"PreventPendingTransitions"});
  }
}

TEST_CASE("PreventPendingTransitions: back to Pending, or the same name again, aborts") {
  struct Pair {
    const char* initial;
    const char* proposed;
  };
  for (const Pair& p :
       {Pair{"Pending", "Pending"}, Pair{"Submitting", "Pending"},
        Pair{"InfrastructurePending", "Pending"}, Pair{"Submitting", "Submitting"}}) {
    CAPTURE(p.initial);
    CAPTURE(p.proposed);
    Harness h(kPending, kPending, RunKind::kFlow);
    h.ctx.initial_state->name = p.initial;
    h.ctx.proposed_state->name = p.proposed;
    h.run_chain({builtin("PreventPendingTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ABORT");
    CHECK(h.ctx.response_details == ResponseDetails::abort(abort_reason(kPending)));
  }
}

TEST_CASE("PreventPendingTransitions: a sub-state carries the lease and scheduled time forward") {
  Harness h(kPending, kPending, RunKind::kFlow);
  h.ctx.proposed_state->name = "Submitting";
  h.ctx.initial_state->details->deployment_concurrency_lease_id =
      "6f1d2c3b-0000-4000-8000-00000000l3a5";
  h.ctx.initial_state->details->scheduled_time = kNow - 60 * kMicrosPerSecond;
  h.run_chain({builtin("PreventPendingTransitions")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  // Set on the real proposal through the shared details, hence on the validated state too.
  CHECK(h.ctx.proposed_state->details->deployment_concurrency_lease_id ==
        "6f1d2c3b-0000-4000-8000-00000000l3a5");
  CHECK(h.ctx.proposed_state->details->scheduled_time == kNow - 60 * kMicrosPerSecond);
  CHECK(h.ctx.validated_state->details->deployment_concurrency_lease_id ==
        "6f1d2c3b-0000-4000-8000-00000000l3a5");
  CHECK(h.ctx.validated_state->details->scheduled_time == kNow - 60 * kMicrosPerSecond);
}

TEST_CASE(
    "PreventPendingTransitions: the copy overwrites the proposal's own values, even with null") {
  Harness h(kPending, kPending, RunKind::kFlow);
  h.ctx.proposed_state->name = "Submitting";
  h.ctx.proposed_state->details->deployment_concurrency_lease_id = "proposal-lease";
  h.ctx.proposed_state->details->scheduled_time = kNow + kMicrosPerSecond;
  h.run_chain({builtin("PreventPendingTransitions")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK_FALSE(h.ctx.validated_state->details->deployment_concurrency_lease_id);
  CHECK_FALSE(h.ctx.validated_state->details->scheduled_time);
}

TEST_CASE("PreventPendingTransitions: a sub-state from another type is not an exception") {
  // Only PENDING -> PENDING renames pass; RUNNING -> "Submitting" still aborts.
  Harness h(kRunning, kPending, RunKind::kFlow);
  h.ctx.proposed_state->name = "Submitting";
  h.run_chain({builtin("PreventPendingTransitions")});
  CHECK(name_of(h.ctx.response_status) == "ABORT");
  CHECK(h.ctx.response_details == ResponseDetails::abort(abort_reason(kRunning)));
}

TEST_CASE("pending family: registry metadata") {
  const BuiltinEntry* e = find_builtin_entry("PreventPendingTransitions");
  REQUIRE(e != nullptr);
  CHECK(e->scope == RunScope::kGeneric);
  CHECK(e->entry.info().from_states == StateTypeSet{kPending, kCancelling, kRunning, kCancelled});
  CHECK(e->entry.info().to_states == StateTypeSet{kPending});
}

}  // namespace
}  // namespace runctl::testing
