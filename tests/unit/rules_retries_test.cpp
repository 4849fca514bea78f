// The retry rules (lib/rules/retries.cpp) at engine level, after Prefect's TestFlowRetryingRule,
// TestTaskRetryingRule and TestRenameRetryingStates
// (tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include <cmath>

#include "engine/intervals.hpp"

#include "rule_services_fixture.hpp"

namespace runctl::testing {
namespace {

const std::vector<std::string> kNone;

Json flow_policy(Json retries, Json retry_delay = nullptr) {
  return Json{
      {"max_retries", 0},           {"retry_delay_seconds", 0},          {"retries", retries},
      {"retry_delay", retry_delay}, {"pause_keys", Json::array({"p1"})}, {"resuming", true},
      {"retry_type", "reschedule"}};
}

Json task_policy(Json retries, Json retry_delay = nullptr, Json jitter = nullptr) {
  return Json{{"max_retries", 0},
              {"retry_delay_seconds", 0},
              {"retries", retries},
              {"retry_delay", retry_delay},
              {"retry_jitter_factor", jitter}};
}

// A run RUNNING -> FAILED with the given policy and run_count.
void prepare(RuleHarness& h, const Json& policy, int run_count) {
  h.run.empirical_policy = policy;
  h.run.run_count = run_count;
}

double scheduled_delay_seconds(const RuleHarness& h) {
  REQUIRE(h.ctx.validated_state != nullptr);
  REQUIRE(h.ctx.validated_state->details->scheduled_time);
  return static_cast<double>(*h.ctx.validated_state->details->scheduled_time - kNow) / 1e6;
}

void check_awaiting_retry(const RuleHarness& h, const char* rule) {
  CHECK(h.status() == "REJECT");
  CHECK(h.reason() == "Retrying");
  REQUIRE(h.ctx.validated_state != nullptr);
  CHECK(name_of(h.ctx.validated_state) == "SCHEDULED");
  CHECK(h.ctx.validated_state->name == "AwaitingRetry");
  CHECK(h.ctx.validated_state->timestamp == kNow);
  // TO = {FAILED}: after rejecting into SCHEDULED the rule is invalid on exit.
  CHECK(h.ctx.rule_signature == std::vector<std::string>{rule});
  CHECK(h.ctx.finalization_signature.empty());
}

TEST_CASE("retry rules are registered with Prefect's FROM/TO states and scope") {
  for (const char* name : {"RetryFailedFlows", "RetryFailedTasks"}) {
    CAPTURE(name);
    CHECK(builtin_info(name).from_states == StateTypeSet{kRunning});
    CHECK(builtin_info(name).to_states == StateTypeSet{kFailed});
  }
  CHECK(builtin_info("RenameReruns").from_states == StateTypeSet::all());
  CHECK(builtin_info("RenameReruns").to_states == StateTypeSet{kRunning});
  CHECK(find_builtin_entry("RetryFailedFlows")->scope == RunScope::kFlow);
  CHECK(find_builtin_entry("RetryFailedTasks")->scope == RunScope::kTask);
  CHECK(find_builtin_entry("RenameReruns")->scope == RunScope::kGeneric);
}

// ---------------------------------------------------------------------------------------------
// RetryFailedFlows

TEST_CASE("RetryFailedFlows: run_count 1 of 1 retries is rejected into AwaitingRetry") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(1), 1);
  h.run_rules({"RetryFailedFlows"});
  check_awaiting_retry(h, "RetryFailedFlows");
  CHECK(scheduled_delay_seconds(h) == 0);  // no retry_delay: retry now
  CHECK(h.services->states.count(h.ctx.validated_state->id) == 1);
}

TEST_CASE("RetryFailedFlows: run_count 2 of 1 retries is accepted as FAILED") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(1), 2);
  h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "FAILED");
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"RetryFailedFlows"});
}

TEST_CASE("RetryFailedFlows: a retry sets retry_type in_process and clears pause data") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(3), 2);
  h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "REJECT");
  const Json& p = h.run.empirical_policy;
  CHECK(p["retry_type"] == "in_process");
  CHECK(p["resuming"] == false);
  CHECK(p["pause_keys"] == Json::array());
  CHECK(p["retries"] == 3);  // the rest of the policy is kept
}

TEST_CASE("RetryFailedFlows: exhausted retries clear retry_type") {
  Json policy = flow_policy(1);
  policy["retry_type"] = "in_process";
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, policy, 2);
  h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.run.empirical_policy["retry_type"].is_null());
  // Only retry_type changes on this path.
  CHECK(h.run.empirical_policy["pause_keys"] == Json::array({"p1"}));
  CHECK(h.run.empirical_policy["resuming"] == true);
}

TEST_CASE("RetryFailedFlows: no retries configured (null) accepts and clears retry_type") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(nullptr), 0);
  h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.run.empirical_policy["retry_type"].is_null());
}

TEST_CASE("RetryFailedFlows: retries 0 retries a run that never reached RUNNING (run_count 0)") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(0), 0);
  h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "REJECT");
}

TEST_CASE("RetryFailedFlows: the retry is scheduled retry_delay seconds from now") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(2, 30), 1);
  h.run_rules({"RetryFailedFlows"});
  check_awaiting_retry(h, "RetryFailedFlows");
  CHECK(scheduled_delay_seconds(h) == 30);
}

TEST_CASE("RetryFailedFlows: the deprecated max_retries / retry_delay_seconds are back-filled") {
  Json policy = flow_policy(nullptr);
  policy["max_retries"] = 2;
  policy["retry_delay_seconds"] = 7;
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, policy, 2);
  h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "REJECT");
  CHECK(scheduled_delay_seconds(h) == 7);
}

TEST_CASE("RetryFailedFlows: AwaitingRetry keeps the failed proposal's message and data") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(1), 1);
  h.ctx.proposed_state->message = "boom";
  h.ctx.proposed_state->data = std::make_shared<Json>(Json{{"value", 42}});
  h.ctx.proposed_state->details->retriable = false;  // flows ignore retriable
  h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "REJECT");
  CHECK(h.ctx.validated_state->message == "boom");
  REQUIRE(h.ctx.validated_state->data);
  CHECK(*h.ctx.validated_state->data == Json{{"value", 42}});
  // A fresh state: not the proposal's id.
  CHECK(h.ctx.validated_state->id != h.ctx.initial_state->id);
}

TEST_CASE("RetryFailedFlows: api-version below 0.8.3 reschedules the flow's failed task runs") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(1, 5), 1);
  h.services->failed_by_flow_run[h.run.id] = {"task-a", "task-b"};
  h.services->failed_by_flow_run["other-flow"] = {"task-z"};
  h.ctx.parameters["api-version"] = "0.8.2";
  h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "REJECT");
  CHECK(h.services->journal == std::vector<std::string>{"force:task-a", "count:task-a=0",
                                                        "force:task-b", "count:task-b=0"});
  for (const auto& f : h.services->forced) {
    CHECK(name_of(f.state.type) == "SCHEDULED");
    CHECK(f.state.name == "AwaitingRetry");
    CHECK(f.state.details->scheduled_time == kNow + 5 * kSecond);
    CHECK_FALSE(f.state.message);
  }
  // Pause bookkeeping predates 0.8.4: the policy is left alone.
  CHECK(h.run.empirical_policy["retry_type"] == "reschedule");
  CHECK(h.run.empirical_policy["resuming"] == true);
  CHECK(h.run.empirical_policy["pause_keys"] == Json::array({"p1"}));
}

TEST_CASE("RetryFailedFlows: api-version 0.8.3 neither reschedules tasks nor resets the policy") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(1), 1);
  h.services->failed_by_flow_run[h.run.id] = {"task-a"};
  h.ctx.parameters["api-version"] = "0.8.3";
  h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "REJECT");
  CHECK(h.services->journal.empty());
  CHECK(h.run.empirical_policy["retry_type"] == "reschedule");
}

TEST_CASE("RetryFailedFlows: api-version 0.8.4 (or none) resets the policy, no task rescheduling") {
  for (const char* version : {"0.8.4", "0.9.0", ""}) {
    CAPTURE(version);
    RuleHarness h(kRunning, kFailed, RunKind::kFlow);
    prepare(h, flow_policy(1), 1);
    h.services->failed_by_flow_run[h.run.id] = {"task-a"};
    if (*version) h.ctx.parameters["api-version"] = version;
    h.run_rules({"RetryFailedFlows"});
    CHECK(h.status() == "REJECT");
    CHECK(h.services->journal.empty());
    CHECK(h.run.empirical_policy["retry_type"] == "in_process");
  }
}

TEST_CASE("RetryFailedFlows: legacy path with exhausted retries touches no task run") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(1), 2);
  h.services->failed_by_flow_run[h.run.id] = {"task-a"};
  h.ctx.parameters["api-version"] = "0.8.2";
  h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.services->journal.empty());
}

TEST_CASE("RetryFailedFlows: an unparsable api-version is a hook error") {
  RuleHarness h(kRunning, kFailed, RunKind::kFlow);
  prepare(h, flow_policy(1), 1);
  h.ctx.parameters["api-version"] = "not-a-version";
  ChainOutcome out = h.run_rules({"RetryFailedFlows"});
  CHECK(h.status() == "ABORT");
  REQUIRE(h.reason());
  CHECK(h.reason()->rfind("Aborting orchestration due to error in RetryFailedFlows: !", 0) == 0);
  CHECK(out.error.has_value());
}

// ---------------------------------------------------------------------------------------------
// RetryFailedTasks

TEST_CASE("RetryFailedTasks: run_count 2 of 2 retries is rejected into AwaitingRetry") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2), 2);
  h.run_rules({"RetryFailedTasks"});
  check_awaiting_retry(h, "RetryFailedTasks");
  CHECK(scheduled_delay_seconds(h) == 0);
  CHECK(h.random.calls.empty());  // no jitter configured
}

TEST_CASE("RetryFailedTasks uses the configured delay") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2, 10), 2);
  h.run_rules({"RetryFailedTasks"});
  check_awaiting_retry(h, "RetryFailedTasks");
  CHECK(scheduled_delay_seconds(h) == 10);
}

TEST_CASE("RetryFailedTasks uses the configured delay of each attempt") {
  const Json delays = Json::array({2, 3, 5, 7, 11});
  for (int rc = 1; rc <= 5; ++rc) {
    CAPTURE(rc);
    RuleHarness h(kRunning, kFailed, RunKind::kTask);
    prepare(h, task_policy(5, delays), rc);
    h.run_rules({"RetryFailedTasks"});
    check_awaiting_retry(h, "RetryFailedTasks");
    CHECK(scheduled_delay_seconds(h) == delays[rc - 1].get<double>());
  }
}

TEST_CASE("RetryFailedTasks falls back to the last delay") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(6, Json::array({2, 3, 5, 7})), 6);
  h.run_rules({"RetryFailedTasks"});
  check_awaiting_retry(h, "RetryFailedTasks");
  CHECK(scheduled_delay_seconds(h) == 7);
}

TEST_CASE("RetryFailedTasks: run_count 0 picks the last delay (Python index -1)") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2, Json::array({2, 3, 5})), 0);
  h.run_rules({"RetryFailedTasks"});
  CHECK(scheduled_delay_seconds(h) == 5);
}

TEST_CASE("RetryFailedTasks: fractional delays keep their microseconds") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2, 2.25), 1);
  h.run_rules({"RetryFailedTasks"});
  CHECK(*h.ctx.validated_state->details->scheduled_time == kNow + 2'250'000);
}

TEST_CASE(
    "RetryFailedTasks: "
    "retries can jitter sleeps (the top of the range is avg x (1 + factor))") {
  // Prefect replaces the jitter with avg * (1 + factor); drawing the top of the uniform range gives
  // that value up to float rounding.
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2, 10, 9), 2);
  h.random = ScriptedRandom(1.0);
  h.run_rules({"RetryFailedTasks"});
  check_awaiting_retry(h, "RetryFailedTasks");
  CHECK(scheduled_delay_seconds(h) == doctest::Approx(100).epsilon(1e-6));
  CHECK(h.random.calls.size() == 1);
}

TEST_CASE("RetryFailedTasks: jittered delays stay within the clamped bounds") {
  const PoissonBounds b = clamped_poisson_bounds(10, 9);
  for (double fraction : {0.0, 0.1, 0.5, 0.9, 0.999999}) {
    CAPTURE(fraction);
    RuleHarness h(kRunning, kFailed, RunKind::kTask);
    prepare(h, task_policy(2, 10, 9), 2);
    h.random = ScriptedRandom(fraction);
    h.run_rules({"RetryFailedTasks"});
    const double d = scheduled_delay_seconds(h);
    CHECK(d >= b.lower - 1e-6);
    CHECK(d <= b.upper + 1e-6);
  }
  // A seeded source: the same seed gives the same delay.
  auto seeded = [](std::uint64_t seed) {
    RuleHarness h(kRunning, kFailed, RunKind::kTask);
    prepare(h, task_policy(2, 10, 9), 2);
    SeededRandom random(seed);
    h.ctx.random = &random;
    h.run_rules({"RetryFailedTasks"});
    return *h.ctx.validated_state->details->scheduled_time;
  };
  CHECK(seeded(7) == seeded(7));
}

TEST_CASE("RetryFailedTasks: jitter with no delay does not divide by zero") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2, nullptr, 0.5), 1);
  h.run_rules({"RetryFailedTasks"});
  check_awaiting_retry(h, "RetryFailedTasks");
  CHECK(scheduled_delay_seconds(h) == 0);
  CHECK(h.random.calls.empty());
}

TEST_CASE("RetryFailedTasks stops retrying eventually") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2), 3);
  h.run_rules({"RetryFailedTasks"});
  CHECK(h.status() == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "FAILED");
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"RetryFailedTasks"});
}

TEST_CASE("RetryFailedTasks: a proposal with retriable=false is not retried") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2), 1);
  h.ctx.proposed_state->details->retriable = false;
  h.run_rules({"RetryFailedTasks"});
  CHECK(h.status() == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "FAILED");
}

TEST_CASE("RetryFailedTasks: a manual retry works even when not retriable") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2), 1);
  h.ctx.proposed_state->name = "AwaitingRetry";
  h.ctx.proposed_state->details->retriable = false;
  h.run_rules({"RetryFailedTasks"});
  CHECK(h.status() == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "FAILED");
  CHECK(h.ctx.validated_state->name == "AwaitingRetry");
}

TEST_CASE("RetryFailedTasks: retriable=true or unset retries normally") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2), 1);
  h.ctx.proposed_state->details->retriable = true;
  h.run_rules({"RetryFailedTasks"});
  CHECK(h.status() == "REJECT");
}

TEST_CASE("RetryFailedTasks: the jitter is drawn even when no retry follows") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(2, 10, 0.3), 1);
  h.ctx.proposed_state->details->retriable = false;
  h.run_rules({"RetryFailedTasks"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.random.calls.size() == 1);
}

TEST_CASE("RetryFailedTasks: null retries never retry") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(nullptr, 10), 0);
  h.run_rules({"RetryFailedTasks"});
  CHECK(h.status() == "ACCEPT");
}

TEST_CASE("RetryFailedTasks: an empty delay list is a hook error, even without a retry") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(nullptr, Json::array()), 1);
  ChainOutcome out = h.run_rules({"RetryFailedTasks"});
  CHECK(h.status() == "ABORT");
  CHECK(h.reason() ==
        "Aborting orchestration due to error in RetryFailedTasks: !list index out of range");
  CHECK(out.error == h.reason());
}

TEST_CASE("RetryFailedTasks: AwaitingRetry keeps the failed proposal's message and data") {
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, task_policy(1), 1);
  h.ctx.proposed_state->message = "task blew up";
  h.ctx.proposed_state->data = std::make_shared<Json>(Json{{"type", "unpersisted"}});
  h.run_rules({"RetryFailedTasks"});
  CHECK(h.status() == "REJECT");
  CHECK(h.ctx.validated_state->message == "task blew up");
  REQUIRE(h.ctx.validated_state->data);
  CHECK(*h.ctx.validated_state->data == Json{{"type", "unpersisted"}});
}

TEST_CASE("RetryFailedTasks: the deprecated max_retries is back-filled") {
  Json policy = task_policy(nullptr);
  policy["max_retries"] = 3;
  RuleHarness h(kRunning, kFailed, RunKind::kTask);
  prepare(h, policy, 3);
  h.run_rules({"RetryFailedTasks"});
  CHECK(h.status() == "REJECT");
}

// ---------------------------------------------------------------------------------------------
// RenameReruns

TEST_CASE("RenameReruns: rerun states get renamed") {
  RuleHarness h(kScheduled, kRunning);
  h.run.run_count = 2;
  h.run.empirical_policy = task_policy(2);
  h.run_rules({"RenameReruns"});
  CHECK(h.status() == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
  CHECK(h.ctx.validated_state->name == "Rerunning");
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"RenameReruns"});
}

TEST_CASE("RenameReruns: retried states get renamed") {
  RuleHarness h(std::nullopt, kRunning);
  h.set_initial(h.state(kScheduled, kNow - 5 * kSecond, "AwaitingRetry"));
  h.run.run_count = 2;
  h.run_rules({"RenameReruns"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.ctx.validated_state->name == "Retrying");
}

TEST_CASE("RenameReruns: no rename on the first run") {
  RuleHarness h(kScheduled, kRunning);
  h.run.run_count = 0;
  h.run_rules({"RenameReruns"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.ctx.validated_state->name == "Running");
}

TEST_CASE("RenameReruns: any current type, and flow runs too, a custom name is replaced") {
  for (RunKind kind : {RunKind::kTask, RunKind::kFlow}) {
    for (StateType initial : all_types()) {
      CAPTURE(name_of(initial));
      RuleHarness h(initial, std::nullopt, kind);
      h.ctx.proposed_state = h.state(kRunning, kNow, "MyRun");
      h.run.run_count = 1;
      h.run_rules({"RenameReruns"});
      CHECK(h.ctx.validated_state->name == "Rerunning");
    }
  }
}

TEST_CASE("RenameReruns: no current state, no rename (null-guard)") {
  RuleHarness h(std::nullopt, kRunning);
  h.run.run_count = 3;
  h.run_rules({"RenameReruns"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.ctx.validated_state->name == "Running");
}

}  // namespace
}  // namespace runctl::testing
