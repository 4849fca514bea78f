// End to end through the runctl binary: WaitForScheduledTime, CopyScheduledTime and
// EnsureOnlyScheduledFlowsMarkedLate, after Prefect's TestWaitForScheduledTimeRule,
// TestCopyScheduledTime and TestEnsureOnlyScheduledFlowMarkedLate
// (tests/server/orchestration/test_core_policy.py).
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
const std::vector<std::string> kTerminal = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"};

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

TEST_CASE("WaitForScheduledTime: running after the scheduled start time is not delayed") {
  for (const std::string& kind : kKinds) {
    for (const std::string initial : {"SCHEDULED", "PENDING"}) {
      CAPTURE(kind);
      CAPTURE(initial);
      CliDb db;
      const std::string id = create_at(db, kind, state_scheduled_at(initial, kFiveMinutesAgo));
      Json out = set_state_at(db, kNow, id, "RUNNING",
                              {"--policy", rules(db, Json::array({"WaitForScheduledTime"}))});
      CHECK(out["_exit_code"] == 0);
      CHECK(out["status"] == "ACCEPT");
      CHECK(state_type(out["validated_state"]) == "RUNNING");
      CHECK(signed_by(out["finalization_signature"], "WaitForScheduledTime"));
      CHECK(state_type(db.show(id)["state"]) == "RUNNING");
    }
  }
}

TEST_CASE("WaitForScheduledTime: running before the scheduled start time is delayed") {
  for (const std::string& kind : kKinds) {
    for (const std::string initial : {"SCHEDULED", "PENDING"}) {
      CAPTURE(kind);
      CAPTURE(initial);
      CliDb db;
      const std::string id = create_at(db, kind, state_scheduled_at(initial, kFiveMinutesAhead));
      const std::string before = db.show(id)["state"]["id"];
      Json out = set_state_at(db, kNow, id, "RUNNING",
                              {"--policy", rules(db, Json::array({"WaitForScheduledTime"}))});
      CHECK(out["_exit_code"] == 2);
      CHECK(out["status"] == "WAIT");
      CHECK(out["details"]["type"] == "wait_details");
      CHECK(out["details"]["delay_seconds"] == 300);
      CHECK(reason(out) == "Scheduled time is in the future");
      // Nothing written; the run keeps its state and its bookkeeping.
      Json run = db.show(id);
      CHECK(run["state"]["id"] == before);
      CHECK(state_type(run["state"]) == initial);
      CHECK(run["run_count"] == 0);
      CHECK(run["start_time"].is_null());
    }
  }
}

TEST_CASE("WaitForScheduledTime does not fire against other state types") {
  for (const std::string& kind : kKinds) {
    for (const std::string& proposed : kTerminal) {
      CAPTURE(kind);
      CAPTURE(proposed);
      CliDb db;
      const std::string id =
          create_at(db, kind, state_scheduled_at("SCHEDULED", kFiveMinutesAhead));
      Json out = set_state_at(db, kNow, id, proposed,
                              {"--policy", rules(db, Json::array({"WaitForScheduledTime"}))});
      CHECK(out["_exit_code"] == 0);
      CHECK(state_type(out["validated_state"]) == proposed);
      CHECK_FALSE(signed_by(out["rule_signature"], "WaitForScheduledTime"));
    }
  }
}

TEST_CASE("WaitForScheduledTime rounds the delay as Prefect does") {
  struct Case {
    const char* scheduled;
    int exit_code;
    int delay;
  };
  const Case cases[] = {
      {"2026-01-01T12:00:04.400000+00:00", 2, 4}, {"2026-01-01T12:00:04.600000+00:00", 2, 5},
      {"2026-01-01T12:00:00.500000+00:00", 0, 0}, {"2026-01-01T12:00:00.600000+00:00", 2, 1},
      {"2026-01-01T11:59:59.700000+00:00", 0, 0}, {"2026-01-01T12:04:59.999900+00:00", 2, 300}};
  for (const Case& c : cases) {
    CAPTURE(c.scheduled);
    CliDb db;
    const std::string id = create_at(db, "flow", state_scheduled_at("SCHEDULED", c.scheduled));
    Json out = set_state_at(db, kNow, id, "RUNNING",
                            {"--policy", rules(db, Json::array({"WaitForScheduledTime"}))});
    CHECK(out["_exit_code"] == c.exit_code);
    if (c.exit_code == 2) CHECK(out["details"]["delay_seconds"] == c.delay);
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

TEST_CASE("CopyScheduledTime: the scheduled time is copied from SCHEDULED to PENDING") {
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    CliDb db;
    const std::string id = create_at(db, kind, state_scheduled_at("SCHEDULED", kFiveMinutesAgo));
    Json out = set_state_at(db, kNow, id, "PENDING",
                            {"--policy", rules(db, Json::array({"CopyScheduledTime"}))});
    CHECK(out["_exit_code"] == 0);
    CHECK(state_type(out["validated_state"]) == "PENDING");
    CHECK(out["validated_state"]["state_details"]["scheduled_time"] ==
          "2026-01-01T11:55:00.000000+00:00");
    // The written state carries it too.
    CHECK(db.show(id)["state"]["state_details"]["scheduled_time"] ==
          "2026-01-01T11:55:00.000000+00:00");
  }
}

TEST_CASE("CopyScheduledTime keeps a scheduled time the PENDING proposal already has") {
  CliDb db;
  const std::string id = create_at(db, "flow", state_scheduled_at("SCHEDULED", kFiveMinutesAgo));
  Json out = set_state_at(db, kNow, id, "PENDING",
                          {"--scheduled-time", kFiveMinutesAhead, "--policy",
                           rules(db, Json::array({"CopyScheduledTime"}))});
  CHECK(out["validated_state"]["state_details"]["scheduled_time"] ==
        "2026-01-01T12:05:00.000000+00:00");
}

TEST_CASE("CopyScheduledTime: the scheduled time is not copied for other transitions") {
  for (const std::string& kind : kKinds) {
    std::vector<std::string> targets = kTerminal;
    targets.push_back("RUNNING");
    for (const std::string& proposed : targets) {
      CAPTURE(kind);
      CAPTURE(proposed);
      CliDb db;
      const std::string id =
          create_at(db, kind, state_scheduled_at("SCHEDULED", kFiveMinutesAhead));
      Json out = set_state_at(db, kNow, id, proposed,
                              {"--policy", rules(db, Json::array({"CopyScheduledTime"}))});
      CHECK(out["_exit_code"] == 0);
      CHECK_FALSE(signed_by(out["rule_signature"], "CopyScheduledTime"));
      CHECK(out["validated_state"]["state_details"]["scheduled_time"].is_null());
    }
  }
}

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

TEST_CASE("EnsureOnlyScheduledFlowsMarkedLate: only scheduled flows can be marked late") {
  for (const std::string initial : {"RUNNING", "PENDING", "COMPLETED", "FAILED", "CANCELLING"}) {
    CAPTURE(initial);
    CliDb db;
    const std::string id = create_at(db, "flow", {"--state", initial});
    Json out = set_state_at(db, kNow, id, "SCHEDULED",
                            {"--name", "Late", "--policy",
                             rules(db, Json::array({"EnsureOnlyScheduledFlowsMarkedLate"}))});
    CHECK(out["_exit_code"] == 1);
    CHECK(out["status"] == "REJECT");
    CHECK(reason(out) == "Only scheduled flows can be marked late.");
    CHECK(state_type(out["validated_state"]) == initial);
    CHECK(state_type(db.show(id)["state"]) == initial);
  }
}

TEST_CASE("EnsureOnlyScheduledFlowsMarkedLate: a SCHEDULED flow can be marked late") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "SCHEDULED"});
  Json out = set_state_at(db, kNow, id, "SCHEDULED",
                          {"--name", "Late", "--policy",
                           rules(db, Json::array({"EnsureOnlyScheduledFlowsMarkedLate"}))});
  CHECK(out["_exit_code"] == 0);
  CHECK(out["validated_state"]["name"] == "Late");
  CHECK(db.show(id)["state_name"] == "Late");
}

TEST_CASE("EnsureOnlyScheduledFlowsMarkedLate: a Late flow is not marked late again") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "SCHEDULED", "--state-name", "Late"});
  const std::string before = db.show(id)["state"]["id"];
  Json out = set_state_at(db, kNow, id, "SCHEDULED",
                          {"--name", "Late", "--policy",
                           rules(db, Json::array({"EnsureOnlyScheduledFlowsMarkedLate"}))});
  CHECK(out["_exit_code"] == 1);
  CHECK(reason(out) == "This flow run is already marked late.");
  CHECK(out["validated_state"]["id"] == before);
}

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
