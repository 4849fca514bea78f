// End to end through the runctl binary: PreventRunningTasksFromStoppedFlows,
// UpdateFlowRunTrackerOnTasks (with HandleTaskTerminalStateTransitions) and EnqueueScheduledTasks,
// after Prefect's TestUpdatingFlowRunTrackerOnTasks, TestPermitRerunningFailedTaskRuns and
// TestPreventRunningTasksFromStoppedFlows (tests/server/orchestration/test_core_policy.py).
// The rules' own cases are tests/unit/rules_task_runs_test.cpp; here are one wiring case and what
// the CLI and the store add (default policies, exit codes, what is written and read back).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T11:59:50+00:00";
const std::string kNow = "2026-01-01T12:00:00+00:00";

std::string create_at(const CliDb& db, const std::string& kind, std::vector<std::string> extra) {
  return create_run_at(db, kCreated, kind, std::move(extra));
}

// ---------------------------------------------------------------------------------------------
// PreventRunningTasksFromStoppedFlows

TEST_CASE("task runs wiring: PreventRunningTasksFromStoppedFlows aborts a task of a stopped flow") {
  CliDb db;
  const std::string flow = create_at(db, "flow", {"--state", "COMPLETED"});
  const std::string task = create_at(db, "task", {"--flow-run", flow, "--state", "PENDING"});
  const std::string before = db.show(task)["state"]["id"];
  Json out = set_state_at(db, kNow, task, "RUNNING",
                          {"--policy", only(db, {"PreventRunningTasksFromStoppedFlows"})});
  CHECK(out["_exit_code"] == 3);
  CHECK(out["status"] == "ABORT");
  CHECK(reason(out) == "The enclosing flow must be running to begin task execution.");
  CHECK(out["validated_state"]["id"] == before);
  CHECK(out["rule_signature"] == Json{"PreventRunningTasksFromStoppedFlows"});
  CHECK(out["finalization_signature"] == Json::array());
  CHECK(db.show(task)["state"]["id"] == before);
}

TEST_CASE("PreventRunningTasksFromStoppedFlows in the default task policy") {
  CliDb db;
  const std::string flow = create_at(db, "flow", {"--state", "PAUSED"});
  const std::string task = create_at(db, "task", {"--flow-run", flow, "--state", "PENDING"});
  Json out = set_state_at(db, kNow, task, "RUNNING");
  CHECK(out["_exit_code"] == 1);
  Json run = db.show(task);
  CHECK(run["state_type"] == "PAUSED");
  CHECK(run["state_name"] == "NotReady");
  CHECK(run["run_count"] == 0);
  // Once the flow runs again, so may the task.
  set_state_at(db, kNow, flow, "RUNNING", {"--force"});
  out = set_state_at(db, "2026-01-01T12:00:01+00:00", task, "RUNNING");
  CHECK(out["_exit_code"] == 0);
  CHECK(db.show(task)["run_count"] == 1);
}

// ---------------------------------------------------------------------------------------------
// UpdateFlowRunTrackerOnTasks

TEST_CASE("UpdateFlowRunTrackerOnTasks: a task run's tracker is written from its flow run's") {
  CliDb db;
  const std::string flow = create_at(db, "flow", {"--state", "RUNNING"});
  set_run_count(db, flow, 42);
  const std::string task = create_at(db, "task", {"--flow-run", flow, "--state", "PENDING"});
  set_flow_run_run_count(db, task, 1);
  Json out = set_state_at(db, kNow, task, "RUNNING",
                          {"--policy", only(db, {"UpdateFlowRunTrackerOnTasks"})});
  CHECK(out["_exit_code"] == 0);
  CHECK(signed_by(out["finalization_signature"], "UpdateFlowRunTrackerOnTasks"));
  CHECK(db.show(task)["flow_run_run_count"] == 42);
}

TEST_CASE("UpdateFlowRunTrackerOnTasks raises an informative error on a missing flow run" *
          RUNCTL_SQLITE_ONLY("PostgreSQL enforces the task run's foreign key to its flow run, so "
                             "no task run can outlive it")) {
  CliDb db;
  const std::string flow = create_at(db, "flow", {"--state", "RUNNING"});
  const std::string task = create_at(db, "task", {"--flow-run", flow, "--state", "PENDING"});
  set_flow_run_run_count(db, task, 1);
  // The flow run is deleted behind the task run's back (a connection of sqlite3's own enforces no
  // foreign keys, so the task run keeps its flow_run_id).
  reliability::Sql(db.path()).exec("DELETE FROM flow_run WHERE id = '" + flow + "'");
  Json out = set_state_at(db, kNow, task, "RUNNING",
                          {"--policy", only(db, {"UpdateFlowRunTrackerOnTasks"})});
  CHECK(out["_exit_code"] == 70);
  CHECK(out["error"] == "Unable to read flow run associated with task run: " + task +
                            ", this flow run might have been deleted");
  Json run = db.show(task);
  CHECK(run["flow_run_run_count"] == 1);
  CHECK(state_type(run["state"]) == "PENDING");  // rolled back
}

// Prefect's rerun chain: [HandleTaskTerminalStateTransitions, UpdateFlowRunTrackerOnTasks] on a
// FAILED task of a flow run with `flow_retries`.
struct Rerun {
  CliDb db;
  std::string flow, task;
  Rerun(int flow_run_count, int tracker, int run_count, int flow_retries) {
    flow = create_at(db, "flow", {"--state", "RUNNING", "--retries", std::to_string(flow_retries)});
    set_run_count(db, flow, flow_run_count);
    task = create_at(db, "task", {"--flow-run", flow, "--state", "FAILED"});
    set_flow_run_run_count(db, task, tracker);
    set_run_count(db, task, run_count);
  }
  Json rerun(Json extra_rules = Json::array()) {
    Json rules = Json::array({"HandleTaskTerminalStateTransitions", "UpdateFlowRunTrackerOnTasks"});
    for (const Json& r : extra_rules) rules.push_back(r);
    return set_state_at(db, kNow, task, "RUNNING", {"--policy", only(db, rules)});
  }
};

TEST_CASE(
    "HandleTaskTerminalStateTransitions: "
    "rerun bookkeeping is cleaned up after an invalid transition") {
  Rerun r(4, 2, 2, 10);
  const Json fizzler =
      Json{{"name", "FizzlingRule"},
           {"from", "*"},
           {"to", "*"},
           {"before", Json::array({Json{{"reject", Json{{"state", Json{{"type", "COMPLETED"}}},
                                                        {"reason", "for testing, of course"}}}}})}};
  Json out = r.rerun(Json::array({fizzler}));
  CHECK(out["_exit_code"] == 1);
  CHECK(out["status"] == "REJECT");
  CHECK(state_type(out["validated_state"]) == "COMPLETED");
  Json run = r.db.show(r.task);
  CHECK(run["run_count"] == 2);           // HandleTaskTerminalStateTransitions' cleanup
  CHECK(run["flow_run_run_count"] == 2);  // the tracker fizzled
}

// ---------------------------------------------------------------------------------------------
// EnqueueScheduledTasks (BackgroundTaskPolicy: chosen for any proposal with deferred set)

Json queue(const CliDb& db) {
  return db.json({"task-queue", "list"}, 0);
}

TEST_CASE("EnqueueScheduledTasks: a deferred task run scheduled goes on its scheduled queue") {
  CliDb db;
  const std::string task = create_at(db, "task", {"--task-key", "my_module.my_task"});
  Json out = set_state_at(db, kNow, task, "SCHEDULED", {"--details", R"({"deferred": true})"});
  CHECK(out["_exit_code"] == 0);
  CHECK(out["policy"] == "BackgroundTaskPolicy");
  CHECK(signed_by(out["finalization_signature"], "EnqueueScheduledTasks"));
  Json q = queue(db);
  CAPTURE(q.dump());
  REQUIRE(q.contains("tasks"));
  REQUIRE(q["tasks"].size() == 1);
  CHECK(q["tasks"][0]["task_key"] == "my_module.my_task");
  CHECK(q["tasks"][0]["queue"] == "scheduled");
  CHECK(q["tasks"][0]["task_run_id"] == task);
}

TEST_CASE("EnqueueScheduledTasks: an AwaitingRetry state goes on the retry queue") {
  CliDb db;
  const std::string task = create_at(db, "task", {"--task-key", "k", "--state", "RUNNING"});
  Json out = set_state_at(db, kNow, task, "SCHEDULED",
                          {"--name", "AwaitingRetry", "--details", R"({"deferred": true})"});
  CHECK(out["_exit_code"] == 0);
  Json q = queue(db);
  REQUIRE(q["tasks"].size() == 1);
  CHECK(q["tasks"][0]["queue"] == "retry");
}

TEST_CASE("EnqueueScheduledTasks: a background task retried by RetryFailedTasks is not queued") {
  // The intended transition is RUNNING -> FAILED, so the rule is not compiled.
  CliDb db;
  const std::string task = create_at(db, "task",
                                     {"--task-key", "k", "--state", "RUNNING", "--retries", "1",
                                      "--details", R"({"deferred": true})"});
  Json out = set_state_at(db, kNow, task, "FAILED", {"--details", R"({"deferred": true})"});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["validated_state"]["name"] == "AwaitingRetry");
  CHECK(queue(db)["tasks"].empty());
}

}  // namespace
}  // namespace runctl::clitest
