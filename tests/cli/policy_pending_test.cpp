// End to end through the runctl binary: PreventPendingTransitions, after Prefect's
// TestPreventPendingTransitions (tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:10+00:00";
const std::string kLatest = "2026-01-01T12:00:20+00:00";

const std::vector<std::string> kBanned = {"CANCELLING", "CANCELLED", "RUNNING", "PENDING"};

std::string create_at(const CliDb& db, const std::string& kind, std::vector<std::string> extra) {
  return create_run_at(db, kCreated, kind, std::move(extra));
}

std::string only_pending_rule(const CliDb& db) {
  return db.policy(
      Json{{"rules", Json{"PreventPendingTransitions"}}, {"transforms", Json::array()}});
}

std::string abort_reason(const std::string& from) {
  return "This run is in a " + from + " state and cannot transition to a PENDING state.";
}

bool banned(const std::string& type) {
  return std::find(kBanned.begin(), kBanned.end(), type) != kBanned.end();
}

TEST_CASE("PreventPendingTransitions: CANCELLING/CANCELLED/RUNNING/PENDING -> PENDING is aborted") {
  CliDb db;
  const std::string policy = only_pending_rule(db);
  for (const std::string kind : {"flow", "task"}) {
    for (const std::string& from : kBanned) {
      CAPTURE(kind);
      CAPTURE(from);
      const std::string id = create_at(db, kind, {"--state", from});
      const Json before = db.show(id)["state"];
      Json out = set_state_at(db, kLater, id, "PENDING", {"--policy", policy});
      CHECK(out["_exit_code"] == 3);
      CHECK(out["status"] == "ABORT");
      CHECK(reason(out) == abort_reason(from));
      CHECK(out["validated_state"]["id"] == before["id"]);
      CHECK(db.show(id)["state"]["id"] == before["id"]);
    }
  }
}

TEST_CASE("PreventPendingTransitions: every other ordered pair of types is accepted") {
  CliDb db;
  const std::string policy = only_pending_rule(db);
  for (const std::string& from : kStateTypes) {
    for (const std::string& to : kStateTypes) {
      if (to == "PENDING" && banned(from)) continue;
      CAPTURE(from);
      CAPTURE(to);
      const std::string id = create_at(db, "flow", {"--state", from});
      Json out = set_state_at(db, kLater, id, to, {"--policy", policy});
      CHECK(out["_exit_code"] == 0);
      CHECK(out["validated_state"]["type"] == to);
    }
  }
}

TEST_CASE("PreventPendingTransitions: Pending -> Submitting -> InfrastructurePending is accepted") {
  CliDb db;
  const std::string policy = only_pending_rule(db);
  const std::string id = create_at(db, "flow", {"--state", "PENDING"});
  Json submitting =
      set_state_at(db, kLater, id, "PENDING", {"--name", "Submitting", "--policy", policy});
  CHECK(submitting["_exit_code"] == 0);
  CHECK(submitting["validated_state"]["name"] == "Submitting");
  Json infra = set_state_at(db, kLatest, id, "PENDING",
                            {"--name", "InfrastructurePending", "--policy", policy});
  CHECK(infra["_exit_code"] == 0);
  CHECK(db.show(id)["state"]["name"] == "InfrastructurePending");

  const std::string direct = create_at(db, "flow", {"--state", "PENDING"});
  Json skip = set_state_at(db, kLater, direct, "PENDING",
                           {"--name", "InfrastructurePending", "--policy", policy});
  CHECK(skip["_exit_code"] == 0);
}

TEST_CASE("PreventPendingTransitions: Pending -> Pending and back to Pending are aborted") {
  CliDb db;
  const std::string policy = only_pending_rule(db);
  for (const std::string initial : {"Pending", "Submitting", "InfrastructurePending"}) {
    CAPTURE(initial);
    const std::string id = create_at(db, "flow", {"--state", "PENDING", "--state-name", initial});
    Json out = set_state_at(db, kLater, id, "PENDING", {"--policy", policy});
    CHECK(out["_exit_code"] == 3);
    CHECK(reason(out) == abort_reason("PENDING"));
    CHECK(db.show(id)["state"]["name"] == initial);
  }
}

TEST_CASE("PreventPendingTransitions: Pending (lease, scheduled time) -> Submitting carries both") {
  CliDb db;
  const std::string lease = "6f1d2c3b-0000-4000-8000-0000000000aa";
  const std::string id = create_at(db, "flow",
                                   {"--state", "PENDING", "--details",
                                    R"({"deployment_concurrency_lease_id": ")" + lease +
                                        R"(", "scheduled_time": "2026-01-01T11:55:00+00:00"})"});
  Json out = set_state_at(db, kLater, id, "PENDING",
                          {"--name", "Submitting", "--policy", only_pending_rule(db)});
  CHECK(out["_exit_code"] == 0);
  const Json details = out["validated_state"]["state_details"];
  CHECK(details["deployment_concurrency_lease_id"] == lease);
  CHECK(details["scheduled_time"] == "2026-01-01T11:55:00.000000+00:00");
  CHECK(db.show(id)["state"]["state_details"]["deployment_concurrency_lease_id"] == lease);
}

TEST_CASE(
    "PreventPendingTransitions: the carried values replace the proposal's own, even with null") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "PENDING"});
  Json out = set_state_at(db, kLater, id, "PENDING",
                          {"--name", "Submitting", "--scheduled-time", "2026-01-02T00:00:00+00:00",
                           "--policy", only_pending_rule(db)});
  CHECK(out["_exit_code"] == 0);
  CHECK(out["validated_state"]["state_details"]["scheduled_time"].is_null());
}

TEST_CASE("PreventPendingTransitions: under the default CoreFlowPolicy") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "PENDING"});
  Json submitting = set_state_at(db, kLater, id, "PENDING", {"--name", "Submitting"});
  CHECK(submitting["_exit_code"] == 0);
  Json again = set_state_at(db, kLatest, id, "PENDING");
  CHECK(again["_exit_code"] == 3);
  CHECK(reason(again) == abort_reason("PENDING"));
  CHECK(db.show(id)["state"]["name"] == "Submitting");
}

TEST_CASE(
    "PreventPendingTransitions: deferred task proposals (BackgroundTaskPolicy) are guarded too") {
  CliDb db;
  const std::string id = create_at(db, "task", {"--state", "RUNNING"});
  Json out = set_state_at(db, kLater, id, "PENDING", {"--details", R"({"deferred": true})"});
  CHECK(out["policy"] == "BackgroundTaskPolicy");
  CHECK(out["_exit_code"] == 3);
  CHECK(reason(out) == abort_reason("RUNNING"));
}

}  // namespace
}  // namespace runctl::clitest
