// End to end through the runctl binary: HandlePausingFlows and HandleResumingPausedFlows
// (after Prefect's TestPausingFlows and TestResumingFlows in
// tests/server/orchestration/test_core_policy.py).
// The rules' own cases are tests/unit/rules_pausing_test.cpp; here are one wiring case and what the
// CLI and the store add (default policies, exit codes, what is written and read back).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:10+00:00";
const std::string kLatest = "2026-01-01T12:00:20+00:00";

std::string create_at(const CliDb& db, const std::string& kind, std::vector<std::string> extra) {
  return create_run_at(db, kCreated, kind, std::move(extra));
}

Json policy_of(const CliDb& db, const std::string& id) {
  return db.show(id)["empirical_policy"];
}

// ---------------------------------------------------------------------------------------------
// HandlePausingFlows

TEST_CASE("pausing wiring: HandlePausingFlows aborts a suspension without a deployment") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "RUNNING"});
  Json out =
      set_state_at(db, kLater, id, "PAUSED",
                   {"--pause-reschedule", "true", "--policy", only(db, "HandlePausingFlows")});
  CHECK(out["_exit_code"] == 3);
  CHECK(out["status"] == "ABORT");
  CHECK(reason(out) == "Cannot pause flows without a deployment.");
  CHECK(out["rule_signature"] == Json::array({"HandlePausingFlows"}));
  CHECK(out["finalization_signature"] == Json::array());
  CHECK(state_type(db.show(id)["state"]) == "RUNNING");
  CHECK(policy_of(db, id)["pause_keys"] == Json::array());
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

// ---------------------------------------------------------------------------------------------
// HandleResumingPausedFlows

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
