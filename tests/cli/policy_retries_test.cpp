// End to end through the runctl binary: RetryFailedFlows and RetryFailedTasks, after Prefect's
// TestFlowRetryingRule and TestTaskRetryingRule (tests/server/orchestration/test_core_policy.py):
// one wiring case, the default policies over a retry, the task runs the store reschedules for old
// clients, --seed and a hook error. The rules' own cases are tests/unit/rules_retries_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T11:59:50+00:00";
const std::string kNow = "2026-01-01T12:00:00+00:00";

std::string create_at(const CliDb& db, const std::string& kind, std::vector<std::string> extra) {
  return create_run_at(db, kCreated, kind, std::move(extra));
}

// Seconds since 12:00:00 of an ISO timestamp on 2026-01-01, e.g. "...T12:01:40.500000+00:00".
double seconds_after_noon(const Json& timestamp) {
  REQUIRE(timestamp.is_string());
  const std::string t = timestamp.get<std::string>();
  REQUIRE(t.rfind("2026-01-01T", 0) == 0);
  const double h = std::atof(t.substr(11, 2).c_str());
  const double m = std::atof(t.substr(14, 2).c_str());
  const double s = std::atof(t.substr(17, 9).c_str());
  return (h - 12) * 3600 + m * 60 + s;
}

double retry_delay(const Json& out) {
  return seconds_after_noon(out["validated_state"]["state_details"]["scheduled_time"]);
}

// ---------------------------------------------------------------------------------------------
// RetryFailedFlows

// A RUNNING flow run with `retries` and the given run_count.
std::string running_flow(const CliDb& db, int retries, int run_count,
                         std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--state", "RUNNING", "--retries", std::to_string(retries)};
  args.insert(args.end(), extra.begin(), extra.end());
  const std::string id = create_at(db, "flow", args);
  set_run_count(db, id, run_count);
  return id;
}

TEST_CASE("retries wiring: RetryFailedFlows sends run_count 1 of 1 retries to AwaitingRetry") {
  CliDb db;
  const std::string id = running_flow(db, 1, 1);
  Json out = set_state_at(db, kNow, id, "FAILED",
                          {"--message", "boom", "--policy", only(db, {"RetryFailedFlows"})});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["status"] == "REJECT");
  CHECK(reason(out) == "Retrying");
  CHECK(state_type(out["validated_state"]) == "SCHEDULED");
  CHECK(out["validated_state"]["name"] == "AwaitingRetry");
  CHECK(out["validated_state"]["message"] == "boom");
  CHECK(retry_delay(out) == 0);
  CHECK(out["rule_signature"] == Json{"RetryFailedFlows"});
  CHECK(out["finalization_signature"] == Json::array());  // invalid on exit (TO = {FAILED})
  Json run = db.show(id);
  CHECK(state_type(run["state"]) == "SCHEDULED");
  CHECK(run["state"]["name"] == "AwaitingRetry");
}

TEST_CASE("RetryFailedFlows in the default policy: retry, wait for the retry time, fail for good") {
  CliDb db;
  const std::string id =
      create_at(db, "flow", {"--state", "RUNNING", "--retries", "1", "--retry-delay", "10"});
  CHECK(db.show(id)["run_count"] == 1);  // entering RUNNING at creation counted
  Json out = set_state_at(db, kNow, id, "FAILED", {"--data", R"({"value": 1})"});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["validated_state"]["name"] == "AwaitingRetry");
  CHECK(out["validated_state"]["data"] == Json{{"value", 1}});
  Json run = db.show(id);
  CHECK(run["state_name"] == "AwaitingRetry");
  CHECK(run["next_scheduled_start_time"] == "2026-01-01T12:00:10.000000+00:00");
  CHECK(run["end_time"].is_null());
  // Too early: WaitForScheduledTime.
  out = set_state_at(db, "2026-01-01T12:00:04+00:00", id, "RUNNING");
  CHECK(out["_exit_code"] == 2);
  CHECK(out["details"]["delay_seconds"] == 6);
  out = set_state_at(db, "2026-01-01T12:00:10+00:00", id, "RUNNING");
  CHECK(out["_exit_code"] == 0);
  CHECK(out["validated_state"]["name"] == "Running");  // flows are not renamed
  CHECK(db.show(id)["run_count"] == 2);
  out = set_state_at(db, "2026-01-01T12:00:20+00:00", id, "FAILED");
  CHECK(out["_exit_code"] == 0);
  CHECK(state_type(db.show(id)["state"]) == "FAILED");
}

TEST_CASE("RetryFailedFlows: clients older than API 0.8.3 get their failed task runs rescheduled") {
  CliDb db;
  const std::string flow = running_flow(db, 1, 1, {"--retry-delay", "30"});
  const std::string failed_a = create_at(db, "task", {"--flow-run", flow, "--state", "FAILED"});
  const std::string failed_b = create_at(db, "task", {"--flow-run", flow, "--state", "FAILED"});
  const std::string completed = create_at(db, "task", {"--flow-run", flow, "--state", "COMPLETED"});
  const std::string elsewhere = create_at(db, "task", {"--state", "FAILED"});
  for (const std::string& t : {failed_a, failed_b, completed, elsewhere}) set_run_count(db, t, 3);
  Json out = set_state_at(
      db, kNow, flow, "FAILED",
      {"--param", "api-version=\"0.8.2\"", "--policy", only(db, {"RetryFailedFlows"})});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["validated_state"]["name"] == "AwaitingRetry");
  for (const std::string& t : {failed_a, failed_b}) {
    Json task = db.show(t);
    CHECK(state_type(task["state"]) == "SCHEDULED");
    CHECK(task["state"]["name"] == "AwaitingRetry");
    CHECK(task["state"]["state_details"]["scheduled_time"] == "2026-01-01T12:00:30.000000+00:00");
    CHECK(task["run_count"] == 0);
    CHECK(task["state_type"] == "SCHEDULED");  // the nested forced orchestration's bookkeeping
  }
  CHECK(state_type(db.show(completed)["state"]) == "COMPLETED");
  CHECK(db.show(completed)["run_count"] == 3);
  CHECK(state_type(db.show(elsewhere)["state"]) == "FAILED");
  // No pause bookkeeping before API 0.8.4.
  CHECK(db.show(flow)["empirical_policy"]["retry_type"].is_null());
}

TEST_CASE(
    "RetryFailedFlows in the default policy clears a previous retry_type when retries are "
    "exhausted") {
  CliDb db;
  const std::string id = running_flow(db, 1, 2);
  db.update_run(id, [](Run& run) { run.empirical_policy["retry_type"] = "reschedule"; });
  Json out = set_state_at(db, kNow, id, "FAILED");
  CHECK(out["_exit_code"] == 0);
  CHECK(db.show(id)["empirical_policy"]["retry_type"].is_null());
}

// ---------------------------------------------------------------------------------------------
// RetryFailedTasks

// A RUNNING task run with `retries` and the given run_count.
std::string running_task(const CliDb& db, int retries, int run_count,
                         std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--state", "RUNNING", "--retries", std::to_string(retries)};
  args.insert(args.end(), extra.begin(), extra.end());
  const std::string id = create_at(db, "task", args);
  set_run_count(db, id, run_count);
  return id;
}

Json fail_task(const CliDb& db, const std::string& id, std::vector<std::string> extra = {}) {
  extra.insert(extra.end(), {"--policy", only(db, {"RetryFailedTasks"})});
  return set_state_at(db, kNow, id, "FAILED", extra);
}

TEST_CASE("RetryFailedTasks: --seed N jitters as Prefect does after random.seed(N)") {
  // CPython: random.seed(1); clamped_poisson_interval(10, clamping_factor=9) = 1.456935774580046
  // s, which timedelta rounds to 1.456936 s.
  CliDb db;
  const std::string id =
      running_task(db, 2, 2, {"--retry-delay", "10", "--retry-jitter-factor", "9"});
  Json out = db.json({"--seed", "1", "--now", kNow, "set-state", id, "FAILED", "--policy",
                      only(db, {"RetryFailedTasks"})});
  CHECK(out["_exit_code"] == 1);
  CHECK(std::abs(retry_delay(out) - 1.456936) < 1e-7);
}

TEST_CASE("RetryFailedTasks: an empty delay list is a hook error (exit 70, nothing written)") {
  CliDb db;
  const std::string id = running_task(db, 2, 1);
  db.update_run(id, [](Run& run) { run.empirical_policy["retry_delay"] = Json::array(); });
  Json out = fail_task(db, id);
  CHECK(out["_exit_code"] == 70);
  CHECK(state_type(db.show(id)["state"]) == "RUNNING");
}

TEST_CASE("RetryFailedTasks in the default policy: retry, rerun as Retrying, fail for good") {
  CliDb db;
  const std::string flow = create_at(db, "flow", {"--state", "RUNNING"});
  const std::string id =
      create_at(db, "task",
                {"--flow-run", flow, "--state", "RUNNING", "--retries", "1", "--retry-delay", "5"});
  CHECK(db.show(id)["run_count"] == 1);
  Json out = set_state_at(db, kNow, id, "FAILED");
  CHECK(out["_exit_code"] == 1);
  CHECK(out["validated_state"]["name"] == "AwaitingRetry");
  out = set_state_at(db, "2026-01-01T12:00:05+00:00", id, "RUNNING");
  CHECK(out["_exit_code"] == 0);
  CHECK(out["validated_state"]["name"] == "Retrying");
  CHECK(db.show(id)["run_count"] == 2);
  out = set_state_at(db, "2026-01-01T12:00:06+00:00", id, "FAILED");
  CHECK(out["_exit_code"] == 0);
  CHECK(state_type(db.show(id)["state"]) == "FAILED");
}

}  // namespace
}  // namespace runctl::clitest
