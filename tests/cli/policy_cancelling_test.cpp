// End to end through the runctl binary: EnforceCancellingToCancelledTransition and
// BypassCancellingFlowRunsWithNoInfra, after Prefect's TestHandleCancellingStateTransitions and
// TestBypassCancellingFlowRunsWithNoInfra (tests/server/orchestration/test_core_policy.py).
// The rules' own cases are tests/unit/rules_cancelling_test.cpp; here are one wiring case and what
// the CLI and the store add (default policies, exit codes, what is written and read back).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:10+00:00";

const char* const kEnforceReason =
    "Cannot transition flows that are cancelling to a state other than Cancelled.";
const char* const kScheduledReason = "Scheduled flow run has no infrastructure to terminate.";

std::string create_flow_at(const CliDb& db, std::vector<std::string> extra) {
  return create_run_at(db, kCreated, "flow", std::move(extra));
}

Json set_state_later(const CliDb& db, const std::string& id, const std::string& type,
                     std::vector<std::string> extra = {}) {
  return set_state_at(db, kLater, id, type, std::move(extra));
}

// A rejection into a brand-new plain Cancelled state, which becomes the run's state.
void check_cancelled_instead(const CliDb& db, const std::string& id, const Json& out,
                             const std::string& why) {
  CHECK(out["_exit_code"] == 1);
  CHECK(out["status"] == "REJECT");
  CHECK(reason(out) == why);
  CHECK(state_type(out["validated_state"]) == "CANCELLED");
  CHECK(out["validated_state"]["name"] == "Cancelled");
  CHECK(out["validated_state"]["message"].is_null());
  CHECK(out["validated_state"]["timestamp"] == "2026-01-01T12:00:10.000000+00:00");
  const Json shown = db.show(id)["state"];
  CHECK(state_type(shown) == "CANCELLED");
  CHECK(shown["id"] == out["validated_state"]["id"]);
}

// ---------------------------------------------------------------------------------------------
// EnforceCancellingToCancelledTransition

TEST_CASE("default CoreFlowPolicy: from CANCELLING only CANCELLED is accepted") {
  CliDb db;
  const std::string id = create_flow_at(db, {"--state", "CANCELLING"});
  Json rejected = set_state_later(db, id, "COMPLETED");
  CHECK(rejected["_exit_code"] == 1);
  CHECK(reason(rejected) == kEnforceReason);
  Json accepted = db.json({"--now", "2026-01-01T12:00:20+00:00", "set-state", id, "CANCELLED"});
  CHECK(accepted["_exit_code"] == 0);
  CHECK(state_type(db.show(id)["state"]) == "CANCELLED");
}

// ---------------------------------------------------------------------------------------------
// BypassCancellingFlowRunsWithNoInfra

TEST_CASE(
    "cancelling wiring: BypassCancellingFlowRunsWithNoInfra cancels a SCHEDULED run without a "
    "pid, not one with a pid") {
  CliDb db;
  const std::string policy = only(db, "BypassCancellingFlowRunsWithNoInfra");
  for (const std::string name : {"Scheduled", "AwaitingRetry"}) {
    CAPTURE(name);
    const std::string id = create_flow_at(
        db, {"--state", "SCHEDULED", "--state-name", name, "--infrastructure-pid", "my-pid-42"});
    Json out = set_state_later(db, id, "CANCELLING", {"--policy", policy});
    CHECK(out["_exit_code"] == 0);
    CHECK(out["status"] == "ACCEPT");
    CHECK(reason(out) == "<null>");
    CHECK(state_type(out["validated_state"]) == "CANCELLING");
    CHECK(out["rule_signature"] == Json{"BypassCancellingFlowRunsWithNoInfra"});
    CHECK(out["finalization_signature"] == Json{"BypassCancellingFlowRunsWithNoInfra"});
  }
  // The same run without a pid is cancelled directly.
  const std::string bare = create_flow_at(db, {"--state", "SCHEDULED"});
  const Json out = set_state_later(db, bare, "CANCELLING", {"--policy", policy});
  check_cancelled_instead(db, bare, out, kScheduledReason);
  // Rejected outside its TO = {CANCELLING}: invalid on exit, never finalised.
  CHECK(out["rule_signature"] == Json{"BypassCancellingFlowRunsWithNoInfra"});
  CHECK(out["finalization_signature"] == Json::array());
}

TEST_CASE(
    "BypassCancellingFlowRunsWithNoInfra: also applies under --force and the default policy") {
  CliDb db;
  const std::string forced = create_flow_at(db, {"--state", "SCHEDULED"});
  Json out = set_state_later(db, forced, "CANCELLING", {"--force"});
  CHECK(out["policy"] == "MinimalFlowPolicy");
  check_cancelled_instead(db, forced, out, kScheduledReason);

  const std::string core = create_flow_at(db, {"--state", "SCHEDULED"});
  check_cancelled_instead(db, core, set_state_later(db, core, "CANCELLING"), kScheduledReason);
}

}  // namespace
}  // namespace runctl::clitest
