// lib/rules/cancelling.cpp: EnforceCancellingToCancelledTransition and
// BypassCancellingFlowRunsWithNoInfra through the chain runner, after Prefect's
// TestHandleCancellingStateTransitions and TestBypassCancellingFlowRunsWithNoInfra
// (tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include "engine_fixture.hpp"
#include "rules/registry.hpp"

namespace runctl::testing {
namespace {

const char* const kEnforceReason =
    "Cannot transition flows that are cancelling to a state other than Cancelled.";
const char* const kScheduledReason = "Scheduled flow run has no infrastructure to terminate.";
const char* const kSuspendedReason = "Suspended flow run has no infrastructure to terminate.";

PolicyEntry builtin(std::string_view name) {
  const BuiltinEntry* e = find_builtin_entry(name);
  REQUIRE(e != nullptr);
  return e->entry;
}

// The eight types other than CANCELLED (Prefect's parametrisation of 142/143).
std::vector<StateType> all_but_cancelled() {
  std::vector<StateType> out;
  for (StateType t : all_types())
    if (t != kCancelled) out.push_back(t);
  return out;
}

// ---------------------------------------------------------------------------------------------
// EnforceCancellingToCancelledTransition

TEST_CASE(
    "EnforceCancellingToCancelledTransition: "
    "CANCELLING -> anything but CANCELLED is rejected") {
  for (StateType to : all_but_cancelled()) {
    CAPTURE(name_of(to));
    Harness h(kCancelling, to, RunKind::kFlow);
    const std::string initial_id = h.ctx.initial_state->id;
    h.run_chain({builtin("EnforceCancellingToCancelledTransition")});
    CHECK(name_of(h.ctx.response_status) == "REJECT");
    CHECK(h.ctx.response_details == ResponseDetails::reject(kEnforceReason));
    REQUIRE(h.ctx.validated_state);
    CHECK(name_of(h.ctx.validated_state) == "CANCELLING");
    CHECK(h.ctx.validated_state->id == initial_id);
    CHECK(h.services.written_ids.empty());
    // TO contains null: the rule stays valid after its null rejection and its after hook runs.
    CHECK(h.ctx.finalization_signature ==
          std::vector<std::string>{"EnforceCancellingToCancelledTransition"});
  }
}

TEST_CASE("EnforceCancellingToCancelledTransition: CANCELLING -> CANCELLED is not its business") {
  Harness h(kCancelling, kCancelled, RunKind::kFlow);
  h.run_chain({builtin("EnforceCancellingToCancelledTransition")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "CANCELLED");
  CHECK(h.ctx.rule_signature.empty());
}

TEST_CASE("EnforceCancellingToCancelledTransition: CANCELLED -> anything is not blocked") {
  for (StateType to : all_but_cancelled()) {
    CAPTURE(name_of(to));
    Harness h(kCancelled, to, RunKind::kFlow);
    h.run_chain({builtin("EnforceCancellingToCancelledTransition")});
    CHECK(name_of(h.ctx.response_status) != "REJECT");
    CHECK(name_of(h.ctx.validated_state) == name_of(to));
  }
}

TEST_CASE(
    "EnforceCancellingToCancelledTransition: no null-guard, a null proposal is rejected too") {
  Harness h(kCancelling, std::nullopt, RunKind::kFlow);
  h.run_chain({builtin("EnforceCancellingToCancelledTransition")});
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(h.ctx.response_details == ResponseDetails::reject(kEnforceReason));
  CHECK(name_of(h.ctx.validated_state) == "CANCELLING");
}

TEST_CASE("EnforceCancellingToCancelledTransition: not compiled from other initial states") {
  StateTypeSet::all().without(MaybeType(kCancelling)).for_each([](MaybeType from) {
    CAPTURE(name_of(from));
    Harness h(from, kRunning, RunKind::kFlow);
    h.run_chain({builtin("EnforceCancellingToCancelledTransition")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(h.ctx.rule_signature.empty());
  });
}

// ---------------------------------------------------------------------------------------------
// BypassCancellingFlowRunsWithNoInfra

// Checks a rejection into a brand-new plain Cancelled state.
void check_cancelled_instead(Harness& h, const char* reason) {
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(h.ctx.response_details == ResponseDetails::reject(reason));
  REQUIRE(h.ctx.validated_state);
  CHECK(name_of(h.ctx.validated_state) == "CANCELLED");
  CHECK(h.ctx.validated_state->name == "Cancelled");
  CHECK_FALSE(h.ctx.validated_state->message);
  CHECK(h.ctx.validated_state->timestamp == kNow);
  CHECK(h.ctx.validated_state->id != h.ctx.initial_state->id);
  CHECK(h.services.written_ids == std::vector<std::string>{h.ctx.validated_state->id});
  // Rejected into CANCELLED, outside TO = {CANCELLING}: invalid on exit, no after hook.
  CHECK(h.ctx.rule_signature == std::vector<std::string>{"BypassCancellingFlowRunsWithNoInfra"});
  CHECK(h.ctx.finalization_signature.empty());
}

TEST_CASE("BypassCancellingFlowRunsWithNoInfra: SCHEDULED without a pid is cancelled directly") {
  Harness h(kScheduled, kCancelling, RunKind::kFlow);
  h.run_chain({builtin("BypassCancellingFlowRunsWithNoInfra")});
  check_cancelled_instead(h, kScheduledReason);
}

TEST_CASE("BypassCancellingFlowRunsWithNoInfra: an empty pid counts as no infrastructure") {
  Harness h(kScheduled, kCancelling, RunKind::kFlow);
  h.run.infrastructure_pid = "";
  h.run_chain({builtin("BypassCancellingFlowRunsWithNoInfra")});
  check_cancelled_instead(h, kScheduledReason);
}

TEST_CASE("BypassCancellingFlowRunsWithNoInfra: a suspended PAUSED run is cancelled directly") {
  Harness h(kPaused, kCancelling, RunKind::kFlow);
  h.ctx.initial_state->details->pause_reschedule = true;
  h.run.infrastructure_pid = "my-pid-42";  // a pid does not matter for suspended runs
  h.run_chain({builtin("BypassCancellingFlowRunsWithNoInfra")});
  check_cancelled_instead(h, kSuspendedReason);
}

TEST_CASE("BypassCancellingFlowRunsWithNoInfra: Resuming wins even with a pid") {
  Harness h(kScheduled, kCancelling, RunKind::kFlow);
  h.ctx.initial_state->name = "Resuming";
  h.run.infrastructure_pid = "my-pid-42";
  h.run_chain({builtin("BypassCancellingFlowRunsWithNoInfra")});
  check_cancelled_instead(h, kScheduledReason);
}

TEST_CASE(
    "BypassCancellingFlowRunsWithNoInfra: a PAUSED state named Resuming takes the scheduled "
    "branch") {
  // Prefect's condition is `SCHEDULED and no pid or name == "Resuming"`: the name alone decides.
  Harness h(kPaused, kCancelling, RunKind::kFlow);
  h.ctx.initial_state->name = "Resuming";
  h.ctx.initial_state->details->pause_reschedule = true;
  h.run_chain({builtin("BypassCancellingFlowRunsWithNoInfra")});
  check_cancelled_instead(h, kScheduledReason);
}

TEST_CASE("BypassCancellingFlowRunsWithNoInfra: SCHEDULED with a pid goes to CANCELLING") {
  for (const char* name : {"Scheduled", "AwaitingRetry"}) {
    CAPTURE(name);
    Harness h(kScheduled, kCancelling, RunKind::kFlow);
    h.ctx.initial_state->name = name;
    h.run.infrastructure_pid = "my-pid-42";
    h.run_chain({builtin("BypassCancellingFlowRunsWithNoInfra")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(name_of(h.ctx.validated_state) == "CANCELLING");
    CHECK(h.ctx.finalization_signature ==
          std::vector<std::string>{"BypassCancellingFlowRunsWithNoInfra"});
  }
}

TEST_CASE("BypassCancellingFlowRunsWithNoInfra: PAUSED without reschedule goes to CANCELLING") {
  Harness h(kPaused, kCancelling, RunKind::kFlow);
  h.run_chain({builtin("BypassCancellingFlowRunsWithNoInfra")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "CANCELLING");
}

TEST_CASE("BypassCancellingFlowRunsWithNoInfra: every other initial state goes to CANCELLING") {
  StateTypeSet::all()
      .without(MaybeType(kScheduled))
      .without(MaybeType(kPaused))
      .for_each([](MaybeType from) {
        CAPTURE(name_of(from));
        Harness h(from, kCancelling, RunKind::kFlow);
        h.run_chain({builtin("BypassCancellingFlowRunsWithNoInfra")});
        CHECK(name_of(h.ctx.response_status) == "ACCEPT");
        CHECK(name_of(h.ctx.validated_state) == "CANCELLING");
        CHECK(h.ctx.rule_signature.empty());
      });
}

TEST_CASE("BypassCancellingFlowRunsWithNoInfra: only CANCELLING proposals are considered") {
  for (StateType to : {kCancelled, kRunning, kPending}) {
    CAPTURE(name_of(to));
    Harness h(kScheduled, to, RunKind::kFlow);
    h.run_chain({builtin("BypassCancellingFlowRunsWithNoInfra")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(name_of(h.ctx.validated_state) == name_of(to));
  }
}

TEST_CASE("cancelling family: registry metadata") {
  const BuiltinEntry* enforce = find_builtin_entry("EnforceCancellingToCancelledTransition");
  REQUIRE(enforce != nullptr);
  CHECK(enforce->entry.info().from_states == StateTypeSet{kCancelling});
  CHECK(enforce->entry.info().to_states == StateTypeSet::all().without(MaybeType(kCancelled)));
  CHECK(enforce->entry.info().to_states.contains(std::nullopt));
  const BuiltinEntry* bypass = find_builtin_entry("BypassCancellingFlowRunsWithNoInfra");
  REQUIRE(bypass != nullptr);
  CHECK(bypass->scope == RunScope::kFlow);
  CHECK(bypass->entry.info().from_states == StateTypeSet{kScheduled, kPaused});
  CHECK(bypass->entry.info().to_states == StateTypeSet{kCancelling});
}

}  // namespace
}  // namespace runctl::testing
