// The global transforms end to end (lib/rules/global.cpp through the built runctl). Prefect's
// tests/server/orchestration/test_global_policy.py is tests/unit/rules_global_test.cpp; here are
// one wiring case, what the store writes (run columns read back, the parent task run a subflow
// mirrors into, the timestamp lookup), the default policies on a whole life cycle and the
// timestamp-uniqueness difference between flows and tasks. A policy file with "rules": [] and one
// transform isolates that transform, as Prefect's tests enter it alone; "rules": [] and no
// "transforms" gives exactly the run kind's global policy.
#include <cstdio>
#include <string>

#include "cli/cli_fixture.hpp"

namespace runctl::clitest {
namespace {

const char* const kFinal[] = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"};

// 2026-01-01T12:00:00Z plus `seconds` (same day), as runctl prints timestamps.
std::string at(int seconds, int micros = 0) {
  const int s = 12 * 3600 + seconds;
  char buf[64];
  std::snprintf(buf, sizeof buf, "2026-01-01T%02d:%02d:%02d.%06d+00:00", s / 3600, s / 60 % 60,
                s % 60, micros);
  return buf;
}
const std::string kT = at(0);

// Only `transform`, no rules: the transform alone, as Prefect's tests run it.
std::string only(const CliDb& db, const std::string& transform) {
  return db.policy(Json{{"rules", Json::array()}, {"transforms", Json::array({transform})}},
                   transform + ".json");
}
// No rules, and the run kind's global transforms (the policy file has no "transforms" key).
std::string globals(const CliDb& db) {
  return db.policy(Json{{"rules", Json::array()}}, "globals.json");
}

// `kind`-run create at a given clock; returns the id.
std::string create_at(const CliDb& db, const std::string& kind, const std::string& now,
                      std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--now", now, kind + "-run", "create"};
  args.insert(args.end(), extra.begin(), extra.end());
  const Json out = db.json(args, 0);
  return out.value("id", std::string());
}

// set-state at a given clock through a policy; the JSON result (with "_exit_code").
Json set_at(const CliDb& db, const std::string& id, const std::string& type, const std::string& now,
            const std::string& policy, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--now", now, "set-state", id, type, "--policy", policy};
  args.insert(args.end(), extra.begin(), extra.end());
  return db.json(args);
}

// How many states the run has (runctl history).
std::size_t state_count(const CliDb& db, const std::string& id) {
  return db.json({"history", id}, 0)["states"].size();
}

// ---------------------------------------------------------------------------------------------
// After Prefect's test_global_policy.py cases, for both run kinds where Prefect parametrises on
// run_type

TEST_CASE("global wiring: SetStartTime alone, PENDING -> RUNNING sets start_time") {
  CliDb db;
  for (std::string kind : {"flow", "task"}) {
    CAPTURE(kind);
    const std::string id = create_at(db, kind, at(-60), {"--state", "PENDING"});
    REQUIRE(db.show(id)["start_time"].is_null());
    const Json r = set_at(db, id, "RUNNING", kT, only(db, "SetStartTime"));
    CHECK(r["_exit_code"] == 0);
    CHECK(r["status"] == "ACCEPT");
    CHECK(reason(r) == "<null>");
    CHECK(r["rule_signature"] == Json{"SetStartTime"});
    CHECK(r["finalization_signature"] == Json{"SetStartTime"});
    const Json run = db.show(id);
    CHECK(run["start_time"] == kT);
    CHECK(run["state"]["type"] == "RUNNING");
    CHECK(run["state_type"] == "PENDING");  // isolated: SetRunStateType did not run
  }
}

TEST_CASE("SetEndTime: each final type -> RUNNING with end_time preset clears it") {
  CliDb db;
  for (std::string kind : {"flow", "task"})
    for (const char* type : kFinal) {
      CAPTURE(kind);
      CAPTURE(type);
      const std::string id = create_at(db, kind, at(-42), {"--state", type});
      db.update_run(id, [](Run& run) {
        run.start_time = timestamp(at(-84));
        run.end_time = timestamp(at(-42));
      });
      REQUIRE(db.show(id)["end_time"] == at(-42));
      set_at(db, id, "RUNNING", kT, only(db, "SetEndTime"));
      CHECK(db.show(id)["end_time"].is_null());
    }
}

// A parent flow run P, its task run T (RUNNING) and a subflow S of T (RUNNING), each created at
// its own clock so the parent task's mirrored states never share a timestamp.
struct Subflow {
  std::string parent_flow, parent_task, subflow;
  explicit Subflow(const CliDb& db) {
    parent_flow = create_at(db, "flow", at(-30), {"--state", "RUNNING"});
    parent_task = create_at(db, "task", at(-20), {"--flow-run", parent_flow, "--state", "RUNNING"});
    subflow =
        create_at(db, "flow", at(-10), {"--parent-task-run", parent_task, "--state", "RUNNING"});
  }
};

TEST_CASE("UpdateSubflowParentTask: subflow RUNNING -> FAILED fails its parent task run") {
  CliDb db;
  Subflow s(db);
  REQUIRE(db.show(s.parent_task)["state"]["type"] == "RUNNING");
  const Json r = set_at(db, s.subflow, "FAILED", kT, only(db, "UpdateSubflowParentTask"),
                        {"--message", "boom"});
  REQUIRE(r["_exit_code"] == 0);
  const Json task = db.show(s.parent_task);
  CHECK(task["state"]["type"] == "FAILED");
  CHECK(task["state"]["name"] == "Failed");
  CHECK(task["state"]["message"] == "boom");
  CHECK(task["state"]["state_details"]["child_flow_run_id"] == s.subflow);
  // A fresh copy: its own id, stamped now.
  CHECK(task["state"]["id"] != r["validated_state"]["id"]);
  CHECK(task["state"]["timestamp"] == kT);
  // The nested forced orchestration ran the task's global transforms.
  CHECK(task["state_type"] == "FAILED");
  CHECK(task["end_time"] == kT);
  CHECK(task["state"]["state_details"]["task_run_id"] == s.parent_task);
  CHECK(task["state"]["state_details"]["flow_run_id"] == s.parent_flow);
  // The subflow's own state is not marked as its own child.
  CHECK(r["validated_state"]["state_details"]["child_flow_run_id"].is_null());
}

TEST_CASE("UpdateSubflowParentTask: the parent task run's new state is the fresh copy itself") {
  // Prefect forces the parent task run into the subflow state's fresh_copy(): a new id and
  // timestamp now. The nested orchestration proposes that very state, and validation writes the
  // proposal's id and timestamp, so the task's state row is the copy: same id, stamped now (not the
  // subflow state's timestamp, which EnsureFlowRunStateTimestampIsUnique moved 1 us later here).
  // runctl's ids are random, so this checks how the ids relate; tests/unit/store_services_test.cpp
  // checks, with counted ids, that the one written is the one UpdateSubflowParentTask minted.
  CliDb db;
  Subflow s(db);
  // A second subflow state at kT, so the one proposed below is moved to kT + 1 us. No transforms:
  // the parent task run must not get a state at kT yet.
  const std::string bare =
      db.policy(Json{{"rules", Json::array()}, {"transforms", Json::array()}}, "bare.json");
  REQUIRE(set_at(db, s.subflow, "RUNNING", kT, bare)["validated_state"]["timestamp"] == kT);
  const std::size_t states_before = state_count(db, s.parent_task);
  const Json r = db.json({"--now", kT, "set-state", s.subflow, "FAILED"});
  REQUIRE(r["_exit_code"] == 0);
  REQUIRE(r["validated_state"]["timestamp"] == at(0, 1));
  const Json task = db.show(s.parent_task);
  const std::string task_state = task["state"]["id"];
  CHECK(task_state != r["validated_state"]["id"]);
  CHECK(task["state"]["timestamp"] == kT);

  // The nested forced transition is the task run's last log entry: it proposed the copy (its id
  // and timestamp) and validated exactly that, minting nothing of its own.
  const Json log = db.json({"log", s.parent_task}, 0);
  REQUIRE_FALSE(log["entries"].empty());
  const Json& nested = log["entries"].back();
  CHECK(nested["policy"] == "MinimalTaskPolicy");
  CHECK(nested["forced"] == true);
  CHECK(nested["proposed_state"]["id"] == task_state);
  CHECK(nested["proposed_state"]["timestamp"] == kT);
  CHECK(nested["proposed_state"]["state_details"]["child_flow_run_id"] == s.subflow);
  CHECK(nested["validated_state_id"] == task_state);
  CHECK(state_count(db, s.parent_task) == states_before + 1);
}

// ---------------------------------------------------------------------------------------------
// Beyond Prefect's own cases

TEST_CASE("GlobalFlowPolicy: resuming with api-version 0.8.4 neither counts nor keeps the flag") {
  CliDb db;
  const std::string id = create_at(db, "flow", at(-60), {"--state", "PAUSED"});
  db.update_run(id, [](Run& run) {
    run.run_count = 1;
    run.empirical_policy["resuming"] = true;
  });
  set_at(db, id, "RUNNING", kT, globals(db), {"--param", "api-version=\"0.8.4\""});
  const Json run = db.show(id);
  CHECK(run["run_count"] == 1);
  CHECK(run["empirical_policy"]["resuming"] == false);
}

TEST_CASE("GlobalFlowPolicy: a subflow mirrors into its parent task with the default policy") {
  CliDb db;
  Subflow s(db);
  const Json r = db.json({"--now", kT, "set-state", s.subflow, "COMPLETED"});
  REQUIRE(r["_exit_code"] == 0);
  const Json task = db.show(s.parent_task);
  CHECK(task["state"]["type"] == "COMPLETED");
  CHECK(task["state"]["state_details"]["child_flow_run_id"] == s.subflow);
  const Json sub = db.show(s.subflow);
  CHECK(sub["state"]["state_details"]["task_run_id"] == s.parent_task);
  CHECK(sub["state"]["state_details"]["flow_run_id"] == s.subflow);
}

TEST_CASE("UpdateSubflowParentTask: a missing parent task run fails the request, nothing written") {
  CliDb db;
  const std::string id = create_at(db, "flow", at(-60), {"--state", "RUNNING"});
  const std::string ghost = "00000000-0000-4000-8000-000000000001";
  db.update_run(id, [&](Run& run) { run.parent_task_run_id = ghost; });
  const ProcessResult r =
      db.run({"--now", kT, "set-state", id, "FAILED", "--policy", globals(db), "--json"});
  CHECK(r.exit_code == 66);  // Prefect: ObjectNotFound from the nested set_task_run_state, 404
  const Json run = db.show(id);
  CHECK(run["state"]["type"] == "RUNNING");
  CHECK(run["end_time"].is_null());
}

TEST_CASE("global transforms: default policies on SCHEDULED -> PENDING -> RUNNING -> COMPLETED") {
  CliDb db;
  const std::string id = create_at(db, "flow", at(-1));
  const Json s = db.json({"--now", kT, "set-state", id, "SCHEDULED", "--scheduled-time", at(60)});
  REQUIRE(s["status"] == "ACCEPT");
  Json run = db.show(id);
  CHECK(run["state_type"] == "SCHEDULED");
  CHECK(run["state_name"] == "Scheduled");
  CHECK(run["state_timestamp"] == kT);
  CHECK(run["expected_start_time"] == at(60));
  CHECK(run["next_scheduled_start_time"] == at(60));
  CHECK(run["run_count"] == 0);
  CHECK(run["state"]["state_details"]["flow_run_id"] == id);

  REQUIRE(db.json({"--now", at(61), "set-state", id, "PENDING"})["status"] == "ACCEPT");
  run = db.show(id);
  CHECK(run["state_type"] == "PENDING");
  CHECK(run["next_scheduled_start_time"].is_null());
  CHECK(run["expected_start_time"] == at(60));
  CHECK(run["start_time"].is_null());

  REQUIRE(db.json({"--now", at(62), "set-state", id, "RUNNING"})["status"] == "ACCEPT");
  run = db.show(id);
  CHECK(run["state_type"] == "RUNNING");
  CHECK(run["start_time"] == at(62));
  CHECK(run["run_count"] == 1);
  CHECK(run["end_time"].is_null());

  REQUIRE(db.json({"--now", at(72), "set-state", id, "COMPLETED"})["status"] == "ACCEPT");
  run = db.show(id);
  CHECK(run["state_type"] == "COMPLETED");
  CHECK(run["state_name"] == "Completed");
  CHECK(run["state_timestamp"] == at(72));
  CHECK(run["start_time"] == at(62));
  CHECK(run["end_time"] == at(72));
  CHECK(run["total_run_time"] == 10.0);
  CHECK(run["run_count"] == 1);
  CHECK(run["expected_start_time"] == at(60));
  CHECK(run["next_scheduled_start_time"].is_null());
}

TEST_CASE("EnsureFlowRunStateTimestampIsUnique: a flow state at a taken timestamp moves by 1 µs") {
  CliDb db;
  const std::string id = create_at(db, "flow", kT, {"--state", "PENDING"});
  const Json r = db.json({"--now", kT, "set-state", id, "RUNNING"});
  REQUIRE(r["_exit_code"] == 0);
  CHECK(r["validated_state"]["timestamp"] == at(0, 1));
  Json run = db.show(id);
  CHECK(run["state_timestamp"] == at(0, 1));
  CHECK(run["start_time"] == at(0, 1));
  // A third state at the same clock skips both taken microseconds.
  const Json third = db.json({"--now", kT, "set-state", id, "COMPLETED"});
  REQUIRE(third["_exit_code"] == 0);
  CHECK(third["validated_state"]["timestamp"] == at(0, 2));
  run = db.show(id);
  CHECK(run["end_time"] == at(0, 2));
  CHECK(run["total_run_time"] == 0.000001);
  CHECK(state_count(db, id) == 3);
}

TEST_CASE("task runs have no timestamp bump: a second state at the same clock is an error") {
  CliDb db;
  const std::string id = create_at(db, "task", kT, {"--state", "PENDING"});
  const ProcessResult r = db.run({"--now", kT, "set-state", id, "RUNNING", "--json"});
  CHECK(r.exit_code == 65);
  CHECK(r.err.find("timestamps must be unique") != std::string::npos);
  const Json run = db.show(id);
  CHECK(run["state_type"] == "PENDING");
  CHECK(run["run_count"] == 0);
  CHECK(run["start_time"].is_null());
  CHECK(state_count(db, id) == 1);
}

}  // namespace
}  // namespace runctl::clitest
