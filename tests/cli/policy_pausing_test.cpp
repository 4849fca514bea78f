// End to end through the runctl binary: HandlePausingFlows and HandleResumingPausedFlows
// (after Prefect's TestPausingFlows and TestResumingFlows in
// tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:10+00:00";
const std::string kLatest = "2026-01-01T12:00:20+00:00";
const std::string kFiveMinutesAfterLater = "2026-01-01T12:05:10+00:00";
const std::string kFiveMinutesBeforeLater = "2026-01-01T11:55:10+00:00";
const std::string kDeployment = "5a1f3c1e-0000-4000-8000-000000000001";

std::string create_at(const CliDb& db, const std::string& kind, std::vector<std::string> extra) {
  return create_run_at(db, kCreated, kind, std::move(extra));
}

Json policy_of(const CliDb& db, const std::string& id) {
  return db.show(id)["empirical_policy"];
}

// ---------------------------------------------------------------------------------------------
// HandlePausingFlows

TEST_CASE("HandlePausingFlows: suspending (pause_reschedule) without a deployment is aborted") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "RUNNING"});
  Json out =
      set_state_at(db, kLater, id, "PAUSED",
                   {"--pause-reschedule", "true", "--policy", only(db, "HandlePausingFlows")});
  CHECK(out["_exit_code"] == 3);
  CHECK(out["status"] == "ABORT");
  CHECK(reason(out) == "Cannot pause flows without a deployment.");
  CHECK(state_type(db.show(id)["state"]) == "RUNNING");
  CHECK(policy_of(db, id)["pause_keys"] == Json::array());
}

TEST_CASE("HandlePausingFlows: subflows cannot be suspended, even with a deployment") {
  CliDb db;
  const std::string parent = create_at(db, "task", {});
  const std::string id = create_at(
      db, "flow",
      {"--state", "RUNNING", "--parent-task-run", parent, "--deployment-id", kDeployment});
  Json out = set_state_at(db, kLater, id, "PAUSED",
                          {"--name", "Suspended", "--pause-reschedule", "true", "--policy",
                           only(db, "HandlePausingFlows")});
  CHECK(out["_exit_code"] == 3);
  CHECK(reason(out) == "Cannot suspend subflows.");
}

TEST_CASE("HandlePausingFlows: suspending with a deployment is accepted") {
  CliDb db;
  const std::string id =
      create_at(db, "flow", {"--state", "RUNNING", "--deployment-id", kDeployment});
  Json out = set_state_at(db, kLater, id, "PAUSED",
                          {"--name", "Suspended", "--pause-reschedule", "true", "--policy",
                           only(db, "HandlePausingFlows")});
  CHECK(out["_exit_code"] == 0);
  CHECK(out["status"] == "ACCEPT");
  CHECK(out["validated_state"]["name"] == "Suspended");
  CHECK(out["validated_state"]["state_details"]["pause_reschedule"] == true);
  CHECK(policy_of(db, id)["pause_keys"].size() == 1);
}

TEST_CASE("HandlePausingFlows: the pause key is added to pause_keys") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "RUNNING"});
  REQUIRE(policy_of(db, id)["pause_keys"] == Json::array());
  Json out = set_state_at(db, kLater, id, "PAUSED",
                          {"--pause-key", "hello", "--pause-timeout", "2026-01-01T12:16:50+00:00",
                           "--policy", only(db, "HandlePausingFlows")});
  CHECK(out["_exit_code"] == 0);
  CHECK(out["finalization_signature"] == Json{"HandlePausingFlows"});
  CHECK(policy_of(db, id)["pause_keys"] == Json{"hello"});
}

TEST_CASE("HandlePausingFlows: without a pause key a random UUID4 is recorded") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "RUNNING"});
  Json out = set_state_at(db, kLater, id, "PAUSED", {"--policy", only(db, "HandlePausingFlows")});
  CHECK(out["_exit_code"] == 0);
  const Json keys = policy_of(db, id)["pause_keys"];
  REQUIRE(keys.size() == 1);
  const std::string key = keys[0].get<std::string>();
  CHECK(key.size() == 36);
  CHECK(key[8] == '-');
  CHECK(key[14] == '4');
}

TEST_CASE("HandlePausingFlows: a second identical pause on the same run is rejected") {
  CliDb db;
  const std::string policy = only(db, "HandlePausingFlows");
  const std::string id = create_at(db, "flow", {"--state", "RUNNING"});
  Json first = set_state_at(db, kLater, id, "PAUSED", {"--pause-key", "hello", "--policy", policy});
  REQUIRE(first["_exit_code"] == 0);
  // Back to RUNNING (HandlePausingFlows does not govern leaving PAUSED).
  REQUIRE(set_state_at(db, kLatest, id, "RUNNING", {"--policy", policy})["_exit_code"] == 0);
  const Json running = db.show(id)["state"];
  Json second = set_state_at(db, "2026-01-01T12:00:30+00:00", id, "PAUSED",
                             {"--pause-key", "hello", "--policy", policy});
  CHECK(second["_exit_code"] == 1);
  CHECK(second["status"] == "REJECT");
  CHECK(reason(second) == "This pause has already fired.");
  CHECK(state_type(second["validated_state"]) == "RUNNING");
  CHECK(second["validated_state"]["id"] == running["id"]);
  CHECK(policy_of(db, id)["pause_keys"] == Json{"hello"});
}

TEST_CASE(
    "HandlePausingFlows: keys fired before (--pause-keys) block a suspend with the same key") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "RUNNING", "--pause-keys", "a,b"});
  Json out = set_state_at(
      db, kLater, id, "PAUSED",
      {"--name", "Suspended", "--pause-key", "b", "--policy", only(db, "HandlePausingFlows")});
  CHECK(out["_exit_code"] == 1);
  CHECK(reason(out) == "This suspend has already fired.");
}

TEST_CASE("HandlePausingFlows: only RUNNING flow runs can pause") {
  CliDb db;
  const std::string policy = only(db, "HandlePausingFlows");
  std::vector<std::string> initials = kStateTypes;
  initials.push_back("");  // no state
  for (const std::string& from : initials) {
    CAPTURE(from);
    std::vector<std::string> extra{"--deployment-id", kDeployment};
    if (!from.empty()) extra.insert(extra.end(), {"--state", from});
    const std::string id = create_at(db, "flow", extra);
    Json out = set_state_at(db, kLater, id, "PAUSED", {"--policy", policy});
    if (from.empty()) {
      CHECK(out["_exit_code"] == 3);
      CHECK(reason(out) == "Cannot pause flows with no state.");
      CHECK(out["validated_state"].is_null());
      CHECK(db.show(id)["state"].is_null());
    } else if (from == "RUNNING") {
      CHECK(out["_exit_code"] == 0);
      CHECK(state_type(out["validated_state"]) == "PAUSED");
    } else {
      CHECK(out["_exit_code"] == 1);
      CHECK(reason(out) == "Cannot pause flows that are not currently running.");
      CHECK(state_type(out["validated_state"]) == from);
      CHECK(policy_of(db, id)["pause_keys"] == Json::array());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HandleResumingPausedFlows

TEST_CASE("HandleResumingPausedFlows: a suspended run without a deployment cannot resume") {
  CliDb db;
  const std::string id = create_at(db, "flow",
                                   {"--state", "PAUSED", "--pause-timeout", kFiveMinutesAfterLater,
                                    "--pause-reschedule", "true"});
  Json out =
      set_state_at(db, kLater, id, "RUNNING", {"--policy", only(db, "HandleResumingPausedFlows")});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["status"] == "REJECT");
  CHECK(reason(out) == "Cannot reschedule a running flow run without a deployment.");
  CHECK(state_type(out["validated_state"]) == "PAUSED");
  CHECK(state_type(db.show(id)["state"]) == "PAUSED");
  // Quirk kept from Prefect: the after hook also runs after the rule's own rejection.
  CHECK(policy_of(db, id)["resuming"] == true);
  CHECK(out["finalization_signature"] == Json{"HandleResumingPausedFlows"});
}

TEST_CASE("HandleResumingPausedFlows: a blocking pause can be left without a deployment") {
  CliDb db;
  const std::string id =
      create_at(db, "flow", {"--state", "PAUSED", "--pause-timeout", kFiveMinutesAfterLater});
  Json out =
      set_state_at(db, kLater, id, "RUNNING", {"--policy", only(db, "HandleResumingPausedFlows")});
  CHECK(out["_exit_code"] == 0);
  CHECK(state_type(db.show(id)["state"]) == "RUNNING");
}

TEST_CASE(
    "HandleResumingPausedFlows: "
    "PAUSED may only go to RUNNING, SCHEDULED or a terminal state") {
  CliDb db;
  const std::string policy = only(db, "HandleResumingPausedFlows");
  for (const std::string& to : kStateTypes) {
    CAPTURE(to);
    const std::string id =
        create_at(db, "flow", {"--state", "PAUSED", "--deployment-id", kDeployment});
    Json out = set_state_at(db, kLater, id, to, {"--policy", policy});
    if (to == "PENDING" || to == "PAUSED" || to == "CANCELLING") {
      CHECK(out["_exit_code"] == 1);
      CHECK(reason(out) == "This run cannot transition to the StateType." + to +
                               " state from the StateType.PAUSED state.");
      CHECK(state_type(out["validated_state"]) == "PAUSED");
    } else {
      CHECK(out["_exit_code"] == 0);
      CHECK(state_type(out["validated_state"]) == to);
    }
    CHECK(policy_of(db, id)["resuming"] == true);  // rejections included (Quirk)
  }
}

TEST_CASE("HandleResumingPausedFlows: a timed-out pause fails the run") {
  CliDb db;
  const std::string id = create_at(db, "flow",
                                   {"--state", "PAUSED", "--deployment-id", kDeployment,
                                    "--pause-timeout", kFiveMinutesBeforeLater});
  Json out =
      set_state_at(db, kLater, id, "RUNNING", {"--policy", only(db, "HandleResumingPausedFlows")});
  CHECK(out["_exit_code"] == 1);
  CHECK(reason(out) == "The flow run pause has timed out and can no longer resume.");
  CHECK(state_type(out["validated_state"]) == "FAILED");
  CHECK(out["validated_state"]["name"] == "Failed");
  CHECK(out["validated_state"]["message"] == "The flow was running and never resumed.");
  CHECK(state_type(db.show(id)["state"]) == "FAILED");
  CHECK(policy_of(db, id)["resuming"] == true);  // FAILED is in TO = ALL (Quirk)
}

TEST_CASE("HandleResumingPausedFlows: a resume proposal named Resuming after the timeout") {
  CliDb db;
  const std::string id = create_at(db, "flow",
                                   {"--state", "PAUSED", "--deployment-id", kDeployment,
                                    "--pause-timeout", kFiveMinutesBeforeLater});
  Json out =
      set_state_at(db, kLater, id, "SCHEDULED",
                   {"--name", "Resuming", "--policy", only(db, "HandleResumingPausedFlows")});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["validated_state"]["message"] == "The flow was resuming and never resumed.");
}

TEST_CASE("HandleResumingPausedFlows: leaving PAUSED in time marks the run as resuming") {
  CliDb db;
  const std::string id = create_at(db, "flow",
                                   {"--state", "PAUSED", "--deployment-id", kDeployment,
                                    "--pause-timeout", kFiveMinutesAfterLater});
  REQUIRE(policy_of(db, id)["resuming"] == false);
  Json out =
      set_state_at(db, kLater, id, "RUNNING", {"--policy", only(db, "HandleResumingPausedFlows")});
  CHECK(out["_exit_code"] == 0);
  CHECK(out["status"] == "ACCEPT");
  CHECK(policy_of(db, id)["resuming"] == true);
}

TEST_CASE(
    "HandleResumingPausedFlows: the default CoreFlowPolicy sets resuming after a blocking pause") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "RUNNING"});
  Json paused = set_state_at(db, kLater, id, "PAUSED", {"--pause-key", "p1"});
  REQUIRE(paused["_exit_code"] == 0);
  CHECK(policy_of(db, id)["pause_keys"] == Json{"p1"});
  Json resumed = set_state_at(db, kLatest, id, "RUNNING");
  CHECK(resumed["_exit_code"] == 0);
  // The flag is set by an after hook, after the global before hooks of this transition.
  CHECK(policy_of(db, id)["resuming"] == true);
}

}  // namespace
}  // namespace runctl::clitest
