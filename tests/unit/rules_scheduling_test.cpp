// The scheduling rules (lib/rules/scheduling.cpp) at engine level, after Prefect's
// TestWaitForScheduledTimeRule, TestCopyScheduledTime and TestEnsureOnlyScheduledFlowMarkedLate
// (tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include "rule_services_fixture.hpp"

namespace runctl::testing {
namespace {

std::vector<StateType> final_types() {
  return {StateType::kCompleted, StateType::kFailed, StateType::kCancelled, StateType::kCrashed};
}

TEST_CASE("scheduling rules are registered with Prefect's FROM/TO states and scope") {
  const RuleInfo& late = builtin_info("EnsureOnlyScheduledFlowsMarkedLate");
  CHECK(late.from_states == StateTypeSet::all());
  CHECK(late.to_states == StateTypeSet{kScheduled});
  const RuleInfo& copy = builtin_info("CopyScheduledTime");
  CHECK(copy.from_states == StateTypeSet{kScheduled});
  CHECK(copy.to_states == StateTypeSet{kPending});
  const RuleInfo& wait = builtin_info("WaitForScheduledTime");
  CHECK(wait.from_states == (StateTypeSet{kScheduled, kPending}));
  CHECK(wait.to_states == StateTypeSet{kRunning});
  CHECK(find_builtin_entry("EnsureOnlyScheduledFlowsMarkedLate")->scope == RunScope::kFlow);
  CHECK(find_builtin_entry("CopyScheduledTime")->scope == RunScope::kGeneric);
  CHECK(find_builtin_entry("WaitForScheduledTime")->scope == RunScope::kGeneric);
  for (const char* name :
       {"EnsureOnlyScheduledFlowsMarkedLate", "CopyScheduledTime", "WaitForScheduledTime"})
    CHECK(find_builtin_entry(name)->entry.kind() == EntryKind::kRule);
}

// ---------------------------------------------------------------------------------------------
// WaitForScheduledTime

TEST_CASE("WaitForScheduledTime: scheduled time in the past is not delayed") {
  for (RunKind kind : {RunKind::kTask, RunKind::kFlow}) {
    for (StateType initial : {kScheduled, kPending}) {
      CAPTURE(kind_name(kind));
      CAPTURE(name_of(initial));
      RuleHarness h(initial, kRunning, kind);
      h.ctx.initial_state->details->scheduled_time = kNow - 5 * kMinute;
      h.run_rules({"WaitForScheduledTime"});
      CHECK(h.status() == "ACCEPT");
      CHECK(name_of(h.ctx.validated_state) == "RUNNING");
      CHECK(h.ctx.rule_signature == std::vector<std::string>{"WaitForScheduledTime"});
      CHECK(h.ctx.finalization_signature == std::vector<std::string>{"WaitForScheduledTime"});
    }
  }
}

TEST_CASE("WaitForScheduledTime: scheduled time in the future delays the transition") {
  for (RunKind kind : {RunKind::kTask, RunKind::kFlow}) {
    for (StateType initial : {kScheduled, kPending}) {
      CAPTURE(kind_name(kind));
      CAPTURE(name_of(initial));
      RuleHarness h(initial, kRunning, kind);
      h.ctx.initial_state->details->scheduled_time = kNow + 5 * kMinute;
      h.run_rules({"WaitForScheduledTime"});
      CHECK(h.status() == "WAIT");
      CHECK(h.ctx.proposed_state == nullptr);
      CHECK(h.ctx.response_details ==
            ResponseDetails::wait(300, "Scheduled time is in the future"));
      // Nothing written: the validated state is the current one.
      REQUIRE(h.ctx.validated_state != nullptr);
      CHECK(h.ctx.validated_state->id == h.ctx.initial_state->id);
      // TO = {RUNNING}: after delaying, the rule is invalid on exit (no after hook).
      CHECK(h.ctx.rule_signature == std::vector<std::string>{"WaitForScheduledTime"});
      CHECK(h.ctx.finalization_signature.empty());
    }
  }
}

TEST_CASE("WaitForScheduledTime does not fire against other state types") {
  for (RunKind kind : {RunKind::kTask, RunKind::kFlow}) {
    for (StateType proposed : final_types()) {
      CAPTURE(name_of(proposed));
      RuleHarness h(kScheduled, proposed, kind);
      h.ctx.initial_state->details->scheduled_time = kNow + 5 * kMinute;
      h.run_rules({"WaitForScheduledTime"});
      CHECK(h.status() == "ACCEPT");
      CHECK(name_of(h.ctx.validated_state) == name_of(proposed));
      CHECK(h.ctx.rule_signature.empty());
    }
  }
}

TEST_CASE("WaitForScheduledTime rounds the delay as Prefect does") {
  struct Case {
    Timestamp ahead;
    std::optional<std::int64_t> delay;  // nullopt: accepted
  };
  const Case cases[] = {
      {4'400'000, 4},           {4'600'000, 5},     {500'000, std::nullopt}, {600'000, 1},
      {-300'000, std::nullopt}, {299'999'900, 300}, {0, std::nullopt},       {1'500'000, 1}};
  for (const Case& c : cases) {
    CAPTURE(c.ahead);
    RuleHarness h(kPending, kRunning);
    h.ctx.initial_state->details->scheduled_time = kNow + c.ahead;
    h.run_rules({"WaitForScheduledTime"});
    if (c.delay) {
      CHECK(h.status() == "WAIT");
      CHECK(h.ctx.response_details.delay_seconds == c.delay);
    } else {
      CHECK(h.status() == "ACCEPT");
      CHECK(name_of(h.ctx.validated_state) == "RUNNING");
    }
  }
}

TEST_CASE("WaitForScheduledTime: no scheduled time on the current state, no wait") {
  RuleHarness h(kPending, kRunning, RunKind::kFlow);
  REQUIRE_FALSE(h.ctx.initial_state->details->scheduled_time);
  h.run_rules({"WaitForScheduledTime"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"WaitForScheduledTime"});
}

TEST_CASE("WaitForScheduledTime reads the current state's time, not the proposal's") {
  RuleHarness h(kScheduled, kRunning);
  h.ctx.initial_state->details->scheduled_time = kNow - kMinute;
  h.ctx.proposed_state->details->scheduled_time = kNow + kMinute;
  h.run_rules({"WaitForScheduledTime"});
  CHECK(h.status() == "ACCEPT");
}

// ---------------------------------------------------------------------------------------------
// CopyScheduledTime

TEST_CASE("CopyScheduledTime copies the scheduled time from SCHEDULED to PENDING") {
  for (RunKind kind : {RunKind::kTask, RunKind::kFlow}) {
    CAPTURE(kind_name(kind));
    RuleHarness h(kScheduled, kPending, kind);
    const Timestamp scheduled = kNow - 5 * kMinute;
    h.ctx.initial_state->details->scheduled_time = scheduled;
    REQUIRE_FALSE(h.ctx.proposed_state->details->scheduled_time);
    h.run_rules({"CopyScheduledTime"});
    CHECK(h.status() == "ACCEPT");
    CHECK(name_of(h.ctx.validated_state) == "PENDING");
    CHECK(h.ctx.validated_state->details->scheduled_time == scheduled);
    CHECK(h.services->states.at(h.ctx.validated_state->id).details->scheduled_time == scheduled);
  }
}

TEST_CASE("CopyScheduledTime keeps a scheduled time the proposal already has") {
  RuleHarness h(kScheduled, kPending, RunKind::kFlow);
  h.ctx.initial_state->details->scheduled_time = kNow - 5 * kMinute;
  h.ctx.proposed_state->details->scheduled_time = kNow + kMinute;
  h.run_rules({"CopyScheduledTime"});
  CHECK(h.ctx.validated_state->details->scheduled_time == kNow + kMinute);
}

TEST_CASE("CopyScheduledTime does not fire for other transitions") {
  for (RunKind kind : {RunKind::kTask, RunKind::kFlow}) {
    std::vector<StateType> targets = final_types();
    targets.push_back(kRunning);
    for (StateType proposed : targets) {
      CAPTURE(name_of(proposed));
      RuleHarness h(kScheduled, proposed, kind);
      h.ctx.initial_state->details->scheduled_time = kNow + 5 * kMinute;
      h.run_rules({"CopyScheduledTime"});
      CHECK(h.ctx.rule_signature.empty());
      CHECK_FALSE(h.ctx.validated_state->details->scheduled_time);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// EnsureOnlyScheduledFlowsMarkedLate

TEST_CASE("EnsureOnlyScheduledFlowsMarkedLate: only scheduled flows can be marked late") {
  for (StateType initial :
       {kRunning, kPending, StateType::kCompleted, StateType::kFailed, StateType::kCancelling}) {
    CAPTURE(name_of(initial));
    RuleHarness h(initial, std::nullopt, RunKind::kFlow);
    h.ctx.proposed_state = h.state(kScheduled, kNow, "Late");
    h.run_rules({"EnsureOnlyScheduledFlowsMarkedLate"});
    CHECK(h.status() == "REJECT");
    CHECK(h.reason() == "Only scheduled flows can be marked late.");
    CHECK(h.ctx.proposed_state == nullptr);
    CHECK(h.ctx.validated_state->id == h.ctx.initial_state->id);
  }
}

TEST_CASE("EnsureOnlyScheduledFlowsMarkedLate: SCHEDULED -> Late is accepted") {
  RuleHarness h(kScheduled, std::nullopt, RunKind::kFlow);
  h.ctx.proposed_state = h.state(kScheduled, kNow, "Late");
  h.run_rules({"EnsureOnlyScheduledFlowsMarkedLate"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.ctx.validated_state->name == "Late");
}

TEST_CASE("EnsureOnlyScheduledFlowsMarkedLate: Late -> Late is rejected") {
  RuleHarness h(std::nullopt, std::nullopt, RunKind::kFlow);
  h.set_initial(h.state(kScheduled, kNow - 5 * kSecond, "Late"));
  h.ctx.proposed_state = h.state(kScheduled, kNow, "Late");
  h.run_rules({"EnsureOnlyScheduledFlowsMarkedLate"});
  CHECK(h.status() == "REJECT");
  CHECK(h.reason() == "This flow run is already marked late.");
  CHECK(h.ctx.validated_state->name == "Late");
  CHECK(h.ctx.validated_state->id == h.ctx.initial_state->id);
}

TEST_CASE("EnsureOnlyScheduledFlowsMarkedLate ignores proposals not named Late") {
  for (const char* name : {"Scheduled", "AwaitingRetry", "late"}) {
    CAPTURE(name);
    RuleHarness h(kRunning, std::nullopt, RunKind::kFlow);
    h.ctx.proposed_state = h.state(kScheduled, kNow, name);
    h.run_rules({"EnsureOnlyScheduledFlowsMarkedLate"});
    CHECK(h.status() == "ACCEPT");
  }
  // A Late state over another SCHEDULED name (e.g. AwaitingRetry) is marked late.
  RuleHarness h(std::nullopt, std::nullopt, RunKind::kFlow);
  h.set_initial(h.state(kScheduled, kNow - 5 * kSecond, "AwaitingRetry"));
  h.ctx.proposed_state = h.state(kScheduled, kNow, "Late");
  h.run_rules({"EnsureOnlyScheduledFlowsMarkedLate"});
  CHECK(h.status() == "ACCEPT");
}

TEST_CASE("EnsureOnlyScheduledFlowsMarkedLate: no current state, nothing to check (null-guard)") {
  RuleHarness h(std::nullopt, std::nullopt, RunKind::kFlow);
  h.ctx.proposed_state = h.state(kScheduled, kNow, "Late");
  h.run_rules({"EnsureOnlyScheduledFlowsMarkedLate"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.ctx.validated_state->name == "Late");
}

}  // namespace
}  // namespace runctl::testing
