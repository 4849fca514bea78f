// End to end through the runctl binary: PreventPendingTransitions, after Prefect's
// TestPreventPendingTransitions (tests/server/orchestration/test_core_policy.py).
// The rules' own cases are tests/unit/rules_pending_test.cpp; here are one wiring case and what the
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

std::string abort_reason(const std::string& from) {
  return "This run is in a " + from + " state and cannot transition to a PENDING state.";
}

TEST_CASE("pending wiring: PreventPendingTransitions aborts RUNNING -> PENDING") {
  for (const std::string kind : {"flow", "task"}) {
    CAPTURE(kind);
    CliDb db;
    const std::string id = create_at(db, kind, {"--state", "RUNNING"});
    const Json before = db.show(id)["state"];
    Json out = set_state_at(db, kLater, id, "PENDING",
                            {"--policy", only(db, "PreventPendingTransitions")});
    CHECK(out["_exit_code"] == 3);
    CHECK(out["status"] == "ABORT");
    CHECK(reason(out) == abort_reason("RUNNING"));
    CHECK(out["validated_state"]["id"] == before["id"]);
    CHECK(out["rule_signature"] == Json{"PreventPendingTransitions"});
    CHECK(out["finalization_signature"] == Json::array());
    CHECK(db.show(id)["state"]["id"] == before["id"]);
  }
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
