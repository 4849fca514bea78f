// End to end through the runctl binary: EnforceCancellingToCancelledTransition and
// BypassCancellingFlowRunsWithNoInfra, after Prefect's TestHandleCancellingStateTransitions and
// TestBypassCancellingFlowRunsWithNoInfra (tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:10+00:00";

const char* const kEnforceReason =
    "Cannot transition flows that are cancelling to a state other than Cancelled.";
const char* const kScheduledReason = "Scheduled flow run has no infrastructure to terminate.";
const char* const kSuspendedReason = "Suspended flow run has no infrastructure to terminate.";

const std::vector<std::string> kAllButCancelled = {"SCHEDULED", "PENDING", "RUNNING", "COMPLETED",
                                                   "FAILED",    "CRASHED", "PAUSED",  "CANCELLING"};

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

TEST_CASE(
    "EnforceCancellingToCancelledTransition: "
    "CANCELLING -> each type but CANCELLED is rejected") {
  CliDb db;
  const std::string policy = only(db, "EnforceCancellingToCancelledTransition");
  for (const std::string& to : kAllButCancelled) {
    CAPTURE(to);
    const std::string id = create_flow_at(db, {"--state", "CANCELLING"});
    const Json before = db.show(id)["state"];
    Json out = set_state_later(db, id, to, {"--policy", policy});
    CHECK(out["_exit_code"] == 1);
    CHECK(out["status"] == "REJECT");
    CHECK(reason(out) == kEnforceReason);
    CHECK(state_type(out["validated_state"]) == "CANCELLING");
    CHECK(out["validated_state"]["id"] == before["id"]);
    CHECK(db.show(id)["state"]["id"] == before["id"]);
  }
}

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

TEST_CASE("EnforceCancellingToCancelledTransition: CANCELLED -> the same types is not rejected") {
  CliDb db;
  const std::string policy = only(db, "EnforceCancellingToCancelledTransition");
  for (const std::string& to : kAllButCancelled) {
    CAPTURE(to);
    const std::string id = create_flow_at(db, {"--state", "CANCELLED"});
    Json out = set_state_later(db, id, to, {"--policy", policy});
    CHECK(out["status"] != "REJECT");
    CHECK(out["_exit_code"] == 0);
    CHECK(state_type(out["validated_state"]) == to);
  }
}

// ---------------------------------------------------------------------------------------------
// BypassCancellingFlowRunsWithNoInfra

TEST_CASE(
    "BypassCancellingFlowRunsWithNoInfra: "
    "SCHEDULED without a pid -> CANCELLING becomes CANCELLED") {
  CliDb db;
  const std::string id = create_flow_at(db, {"--state", "SCHEDULED"});
  Json out = set_state_later(db, id, "CANCELLING",
                             {"--policy", only(db, "BypassCancellingFlowRunsWithNoInfra")});
  check_cancelled_instead(db, id, out, kScheduledReason);
  // Rejected outside its TO = {CANCELLING}: invalid on exit, never finalised.
  CHECK(out["finalization_signature"] == Json::array());
}

TEST_CASE(
    "BypassCancellingFlowRunsWithNoInfra: "
    "a suspended PAUSED run -> CANCELLING becomes CANCELLED") {
  CliDb db;
  const std::string id = create_flow_at(
      db, {"--state", "PAUSED", "--pause-reschedule", "true", "--infrastructure-pid", "my-pid-42"});
  Json out = set_state_later(db, id, "CANCELLING",
                             {"--policy", only(db, "BypassCancellingFlowRunsWithNoInfra")});
  check_cancelled_instead(db, id, out, kSuspendedReason);
}

TEST_CASE(
    "BypassCancellingFlowRunsWithNoInfra: "
    "SCHEDULED named Resuming with a pid becomes CANCELLED") {
  CliDb db;
  const std::string id = create_flow_at(db, {"--state", "SCHEDULED", "--state-name", "Resuming",
                                             "--infrastructure-pid", "my-pid-42"});
  Json out = set_state_later(db, id, "CANCELLING",
                             {"--policy", only(db, "BypassCancellingFlowRunsWithNoInfra")});
  check_cancelled_instead(db, id, out, kScheduledReason);
}

TEST_CASE("BypassCancellingFlowRunsWithNoInfra: SCHEDULED with a pid goes to CANCELLING") {
  CliDb db;
  const std::string policy = only(db, "BypassCancellingFlowRunsWithNoInfra");
  for (const std::string name : {"Scheduled", "AwaitingRetry"}) {
    CAPTURE(name);
    const std::string id = create_flow_at(
        db, {"--state", "SCHEDULED", "--state-name", name, "--infrastructure-pid", "my-pid-42"});
    Json out = set_state_later(db, id, "CANCELLING", {"--policy", policy});
    CHECK(out["_exit_code"] == 0);
    CHECK(out["status"] == "ACCEPT");
    CHECK(state_type(out["validated_state"]) == "CANCELLING");
    CHECK(out["finalization_signature"] == Json{"BypassCancellingFlowRunsWithNoInfra"});
  }
  // The same run without a pid is cancelled directly.
  const std::string bare = create_flow_at(db, {"--state", "SCHEDULED"});
  check_cancelled_instead(db, bare, set_state_later(db, bare, "CANCELLING", {"--policy", policy}),
                          kScheduledReason);
}

TEST_CASE("BypassCancellingFlowRunsWithNoInfra: PAUSED without reschedule goes to CANCELLING") {
  CliDb db;
  const std::string id = create_flow_at(db, {"--state", "PAUSED"});
  Json out = set_state_later(db, id, "CANCELLING",
                             {"--policy", only(db, "BypassCancellingFlowRunsWithNoInfra")});
  CHECK(out["_exit_code"] == 0);
  CHECK(state_type(out["validated_state"]) == "CANCELLING");
}

TEST_CASE(
    "BypassCancellingFlowRunsWithNoInfra: "
    "any other initial state (or none) goes to CANCELLING") {
  CliDb db;
  const std::string policy = only(db, "BypassCancellingFlowRunsWithNoInfra");
  for (const std::string from :
       {"", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "CANCELLING"}) {
    CAPTURE(from);
    const std::string id = create_flow_at(
        db, from.empty() ? std::vector<std::string>{} : std::vector<std::string>{"--state", from});
    Json out = set_state_later(db, id, "CANCELLING", {"--policy", policy});
    CHECK(out["_exit_code"] == 0);
    CHECK(state_type(out["validated_state"]) == "CANCELLING");
    CHECK(out["rule_signature"] == Json::array());
  }
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
