// End to end through the runctl binary: WaitForScheduledTime, CopyScheduledTime and
// EnsureOnlyScheduledFlowsMarkedLate, after Prefect's TestWaitForScheduledTimeRule,
// TestCopyScheduledTime and TestEnsureOnlyScheduledFlowMarkedLate
// (tests/server/orchestration/test_core_policy.py).
// The rules' own cases are tests/unit/rules_scheduling_test.cpp; here are one wiring case and what
// the CLI and the store add (default policies, exit codes, what is written and read back).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

// Runs are created at kCreated and changed at kNow: a run's state timestamps must be unique.
const std::string kCreated = "2026-01-01T11:59:50+00:00";
const std::string kNow = "2026-01-01T12:00:00+00:00";
const std::string kFiveMinutesAgo = "2026-01-01T11:55:00+00:00";
const std::string kFiveMinutesAhead = "2026-01-01T12:05:00+00:00";

const std::vector<std::string> kKinds = {"task", "flow"};

std::string create_at(const CliDb& db, const std::string& kind, std::vector<std::string> extra) {
  return create_run_at(db, kCreated, kind, std::move(extra));
}

// A policy file with exactly these rules, followed by the run kind's global transforms.
std::string rules(const CliDb& db, const Json& names) {
  return db.policy(Json{{"rules", names}});
}

// A current state of `type` whose details carry `scheduled_time`.
std::vector<std::string> state_scheduled_at(const std::string& type, const std::string& time) {
  return {"--state", type, "--details", Json{{"scheduled_time", time}}.dump()};
}

// ---------------------------------------------------------------------------------------------
// WaitForScheduledTime

TEST_CASE("scheduling wiring: WaitForScheduledTime delays RUNNING before the scheduled time") {
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    CliDb db;
    const std::string id = create_at(db, kind, state_scheduled_at("SCHEDULED", kFiveMinutesAhead));
    const std::string before = db.show(id)["state"]["id"];
    Json out = set_state_at(db, kNow, id, "RUNNING",
                            {"--policy", rules(db, Json::array({"WaitForScheduledTime"}))});
    CHECK(out["_exit_code"] == 2);
    CHECK(out["status"] == "WAIT");
    CHECK(out["details"]["type"] == "wait_details");
    CHECK(out["details"]["delay_seconds"] == 300);
    CHECK(reason(out) == "Scheduled time is in the future");
    // TO = {RUNNING}: after delaying, the rule is invalid on exit (no after hook).
    CHECK(signed_by(out["rule_signature"], "WaitForScheduledTime"));
    CHECK_FALSE(signed_by(out["finalization_signature"], "WaitForScheduledTime"));
    // Nothing written; the run keeps its state and its bookkeeping.
    Json run = db.show(id);
    CHECK(run["state"]["id"] == before);
    CHECK(state_type(run["state"]) == "SCHEDULED");
    CHECK(run["run_count"] == 0);
    CHECK(run["start_time"].is_null());
  }
}

TEST_CASE("WaitForScheduledTime in the default policies: a run waits, then starts on time") {
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    CliDb db;
    const std::string id = create_at(
        db, kind, {"--state", "SCHEDULED", "--scheduled-time", "2026-01-01T12:00:30+00:00"});
    Json early = set_state_at(db, kNow, id, "RUNNING");
    CHECK(early["_exit_code"] == 2);
    CHECK(early["details"]["delay_seconds"] == 30);
    CHECK(early["policy"] == (kind == "flow" ? "CoreFlowPolicy" : "CoreTaskPolicy"));
    Json on_time = set_state_at(db, "2026-01-01T12:00:30+00:00", id, "RUNNING");
    CHECK(on_time["_exit_code"] == 0);
    CHECK(db.show(id)["run_count"] == 1);
  }
}

// ---------------------------------------------------------------------------------------------
// CopyScheduledTime

TEST_CASE("CopyScheduledTime in the default flow policy") {
  CliDb db;
  const std::string id =
      create_at(db, "flow", {"--state", "SCHEDULED", "--scheduled-time", kFiveMinutesAgo});
  Json out = set_state_at(db, kNow, id, "PENDING");
  CHECK(out["_exit_code"] == 0);
  CHECK(signed_by(out["rule_signature"], "CopyScheduledTime"));
  CHECK(db.show(id)["state"]["state_details"]["scheduled_time"] ==
        "2026-01-01T11:55:00.000000+00:00");
}

// ---------------------------------------------------------------------------------------------
// EnsureOnlyScheduledFlowsMarkedLate

TEST_CASE("EnsureOnlyScheduledFlowsMarkedLate in the MarkLateRunsPolicy") {
  CliDb db;
  const std::string running = create_at(db, "flow", {"--state", "RUNNING"});
  Json out = set_state_at(db, kNow, running, "SCHEDULED",
                          {"--name", "Late", "--policy", "MarkLateRunsPolicy"});
  CHECK(out["_exit_code"] == 1);
  CHECK(reason(out) == "Only scheduled flows can be marked late.");
  const std::string scheduled = create_at(db, "flow", {"--state", "SCHEDULED"});
  out = set_state_at(db, kNow, scheduled, "SCHEDULED", {"--name", "Late", "--policy", "mark-late"});
  CHECK(out["_exit_code"] == 0);
  // Proposals not named Late are not its business, even from RUNNING.
  out = set_state_at(db, kNow, running, "SCHEDULED",
                     {"--policy", rules(db, Json::array({"EnsureOnlyScheduledFlowsMarkedLate"}))});
  CHECK(out["_exit_code"] == 0);
}

}  // namespace
}  // namespace runctl::clitest
