// End to end through the runctl binary: PreventRunningTasksFromStoppedFlows,
// UpdateFlowRunTrackerOnTasks (with HandleTaskTerminalStateTransitions), CopyTaskParametersID and
// EnqueueScheduledTasks, after Prefect's TestCopyTaskParametersID,
// TestUpdatingFlowRunTrackerOnTasks, TestPermitRerunningFailedTaskRuns and
// TestPreventRunningTasksFromStoppedFlows (tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T11:59:50+00:00";
const std::string kNow = "2026-01-01T12:00:00+00:00";
const std::string kPauseTimeout = "2026-01-01T12:05:00+00:00";
const std::string kParametersId = "7d0c2a52-3f4e-4b6a-9c1d-2e3f4a5b6c7d";

std::string create_at(const CliDb& db, const std::string& kind, std::vector<std::string> extra) {
  return create_run_at(db, kCreated, kind, std::move(extra));
}

const char* const kNotRunning = "The enclosing flow must be running to begin task execution.";

// ---------------------------------------------------------------------------------------------
// PreventRunningTasksFromStoppedFlows

TEST_CASE("PreventRunningTasksFromStoppedFlows allows task runs of a running flow") {
  CliDb db;
  const std::string flow = create_at(db, "flow", {"--state", "RUNNING"});
  const std::string task = create_at(db, "task", {"--flow-run", flow, "--state", "PENDING"});
  Json out = set_state_at(db, kNow, task, "RUNNING",
                          {"--policy", only(db, {"PreventRunningTasksFromStoppedFlows"})});
  CHECK(out["_exit_code"] == 0);
  CHECK(out["status"] == "ACCEPT");
  CHECK(state_type(out["validated_state"]) == "RUNNING");
}

TEST_CASE("PreventRunningTasksFromStoppedFlows prevents tasks of stopped flows running") {
  for (const std::string& flow_type : kStateTypes) {
    if (flow_type == "RUNNING") continue;
    CAPTURE(flow_type);
    CliDb db;
    const std::string flow = create_at(db, "flow", {"--state", flow_type});
    const std::string task = create_at(db, "task", {"--flow-run", flow, "--state", "PENDING"});
    Json out = set_state_at(db, kNow, task, "RUNNING",
                            {"--policy", only(db, {"PreventRunningTasksFromStoppedFlows"})});
    if (flow_type == "PAUSED") {
      CHECK(out["_exit_code"] == 1);
      CHECK(out["status"] == "REJECT");
      CHECK(state_type(out["validated_state"]) == "PAUSED");
      CHECK(out["validated_state"]["name"] == "NotReady");
      CHECK(reason(out) ==
            "The flow is paused, new tasks can execute after resuming flow run: " + flow + ".");
      CHECK(state_type(db.show(task)["state"]) == "PAUSED");
    } else {
      CHECK(out["_exit_code"] == 3);
      CHECK(out["status"] == "ABORT");
      CHECK(reason(out) == kNotRunning);
      CHECK(state_type(out["validated_state"]) == "PENDING");
      CHECK(state_type(db.show(task)["state"]) == "PENDING");
    }
  }
}

TEST_CASE("PreventRunningTasksFromStoppedFlows does not reuse the paused flow state's id") {
  CliDb db;
  const std::string flow = create_at(db, "flow",
                                     {"--state", "PAUSED", "--pause-timeout", kPauseTimeout,
                                      "--pause-reschedule", "true", "--pause-key", "flow-key"});
  const std::string flow_state_id = db.show(flow)["state"]["id"];
  const std::string task = create_at(db, "task", {"--flow-run", flow, "--state", "PENDING"});
  Json out = set_state_at(db, kNow, task, "RUNNING",
                          {"--policy", only(db, {"PreventRunningTasksFromStoppedFlows"})});
  CHECK(out["_exit_code"] == 1);
  const Json& v = out["validated_state"];
  CHECK(state_type(v) == "PAUSED");
  CHECK(v["id"] != flow_state_id);
  CHECK(v["state_details"]["pause_timeout"] == "2026-01-01T12:05:00.000000+00:00");
  CHECK(v["state_details"]["pause_reschedule"] == true);
  CHECK(v["state_details"]["pause_key"].is_null());
  CHECK(state_type(db.show(flow)["state"]) == "PAUSED");
}

TEST_CASE("PreventRunningTasksFromStoppedFlows: a flow run with no state aborts") {
  CliDb db;
  const std::string flow = create_at(db, "flow", {});
  REQUIRE(db.show(flow)["state"].is_null());
  const std::string task = create_at(db, "task", {"--flow-run", flow, "--state", "PENDING"});
  Json out = set_state_at(db, kNow, task, "RUNNING",
                          {"--policy", only(db, {"PreventRunningTasksFromStoppedFlows"})});
  CHECK(out["_exit_code"] == 3);
  CHECK(reason(out) == kNotRunning);
}

TEST_CASE("PreventRunningTasksFromStoppedFlows: a task run without a flow run may run") {
  CliDb db;
  const std::string task = create_at(db, "task", {"--state", "PENDING"});
  Json out = set_state_at(db, kNow, task, "RUNNING",
                          {"--policy", only(db, {"PreventRunningTasksFromStoppedFlows"})});
  CHECK(out["_exit_code"] == 0);
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

TEST_CASE("UpdateFlowRunTrackerOnTasks: task runs track their flow run's run_count") {
  for (int flow_run_count : {5, 42}) {
    std::vector<std::string> initials = kStateTypes;
    initials.push_back("NONE");
    for (const std::string& initial : initials) {
      CAPTURE(flow_run_count);
      CAPTURE(initial);
      CliDb db;
      const std::string flow = create_at(db, "flow", {"--state", "RUNNING"});
      set_run_count(db, flow, flow_run_count);
      std::vector<std::string> args{"--flow-run", flow};
      if (initial != "NONE") args.insert(args.end(), {"--state", initial});
      const std::string task = create_at(db, "task", args);
      set_flow_run_run_count(db, task, 1);
      Json out = set_state_at(db, kNow, task, "RUNNING",
                              {"--policy", only(db, {"UpdateFlowRunTrackerOnTasks"})});
      CHECK(out["_exit_code"] == 0);
      CHECK(signed_by(out["finalization_signature"], "UpdateFlowRunTrackerOnTasks"));
      CHECK(db.show(task)["flow_run_run_count"] == flow_run_count);
    }
  }
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
  Rerun(int flow_run_count, int tracker, int run_count, int flow_retries,
        std::vector<std::string> task_flags = {}) {
    flow = create_at(db, "flow", {"--state", "RUNNING", "--retries", std::to_string(flow_retries)});
    set_run_count(db, flow, flow_run_count);
    std::vector<std::string> args{"--flow-run", flow, "--state", "FAILED"};
    args.insert(args.end(), task_flags.begin(), task_flags.end());
    task = create_at(db, "task", args);
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
    "rerunning a failed task bypasses terminal protection when the flow is retrying") {
  Rerun r(4, 2, 2, 10);
  Json out = r.rerun();
  CHECK(out["_exit_code"] == 0);
  CHECK(out["validated_state"]["name"] == "Retrying");
  Json run = r.db.show(r.task);
  CHECK(run["run_count"] == 0);
  CHECK(run["flow_run_run_count"] == 4);
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: "
    "a failed task can run again even if it exceeds the flow's run count") {
  Rerun r(3, 3, 2, 10, {"--data", R"("test")"});
  Json out = r.rerun();
  CHECK(out["_exit_code"] == 0);
  CHECK(state_type(out["validated_state"]) == "RUNNING");
  CHECK(out["validated_state"]["name"] == "Running");
  Json run = r.db.show(r.task);
  CHECK(run["run_count"] == 0);
  CHECK(run["flow_run_run_count"] == 3);
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: "
    "terminal protection is bypassed when automatic retries are exhausted") {
  Rerun r(4, 2, 2, 1);
  Json out = r.rerun();
  CHECK(out["_exit_code"] == 0);
  CHECK(out["validated_state"]["name"] == "Retrying");
  Json run = r.db.show(r.task);
  CHECK(run["run_count"] == 0);
  CHECK(run["flow_run_run_count"] == 4);
}

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
// CopyTaskParametersID

TEST_CASE("CopyTaskParametersID copies the task parameters id forward") {
  for (const std::string initial : {"SCHEDULED", "PENDING"}) {
    for (const std::string proposed : {"PENDING", "RUNNING"}) {
      CAPTURE(initial);
      CAPTURE(proposed);
      CliDb db;
      const std::string task = create_at(
          db, "task",
          {"--state", initial, "--details", Json{{"task_parameters_id", kParametersId}}.dump()});
      Json out =
          set_state_at(db, kNow, task, proposed, {"--policy", only(db, {"CopyTaskParametersID"})});
      CHECK(out["_exit_code"] == 0);
      CHECK(state_type(out["validated_state"]) == proposed);
      CHECK(out["validated_state"]["state_details"]["task_parameters_id"] == kParametersId);
      CHECK(db.show(task)["state"]["state_details"]["task_parameters_id"] == kParametersId);
    }
  }
}

TEST_CASE("CopyTaskParametersID does not fire for other transitions") {
  for (const std::string initial : {"SCHEDULED", "PENDING"}) {
    for (const std::string proposed : {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}) {
      CAPTURE(initial);
      CAPTURE(proposed);
      CliDb db;
      const std::string task = create_at(
          db, "task",
          {"--state", initial, "--details", Json{{"task_parameters_id", kParametersId}}.dump()});
      Json out =
          set_state_at(db, kNow, task, proposed, {"--policy", only(db, {"CopyTaskParametersID"})});
      CHECK(out["_exit_code"] == 0);
      CHECK_FALSE(signed_by(out["rule_signature"], "CopyTaskParametersID"));
      CHECK(out["validated_state"]["state_details"]["task_parameters_id"].is_null());
    }
  }
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

TEST_CASE("EnqueueScheduledTasks: a task run that is not deferred is not queued") {
  CliDb db;
  const std::string task = create_at(db, "task", {"--task-key", "k"});
  Json out =
      set_state_at(db, kNow, task, "SCHEDULED", {"--policy", only(db, {"EnqueueScheduledTasks"})});
  CHECK(out["_exit_code"] == 0);
  CHECK(queue(db)["tasks"].empty());
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
