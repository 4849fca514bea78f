// End to end through the runctl binary: PreventDuplicateTransitions,
// HandleFlowTerminalStateTransitions, PreventResultDataLoss and
// HandleTaskTerminalStateTransitions, after Prefect's TestTransitionsFromTerminalStatesRule,
// TestPreventResultDataLoss and TestPreventDuplicateTransitions
// (tests/server/orchestration/test_core_policy.py).
// The rules' own cases are tests/unit/rules_terminal_test.cpp; here are one wiring case and what
// the CLI and the store add (default policies, exit codes, what is written and read back).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

// Every run is created at kCreated and changed at kLater: a run's state timestamps are unique.
const std::string kCreated = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:10+00:00";
const std::string kLatest = "2026-01-01T12:00:20+00:00";

const char* const kDataLoss =
    "Cannot overwrite a COMPLETED state that carries persisted result data with one that does "
    "not.";

// What Prefect's tests store as a persisted result (a dumped ResultRecordMetadata).
const std::string kMetadata =
    R"({"storage_key": "/results/abc", "expiration": null, "serializer": {"type": "pickle"}, )"
    R"("prefect_version": "3.4.0", "storage_block_id": null})";

std::string create_at(const CliDb& db, const std::string& kind, std::vector<std::string> extra) {
  return create_run_at(db, kCreated, kind, std::move(extra));
}

// A rule that rejects into a state of another type, fizzling every earlier rule.
Json mutator(const std::string& type) {
  return Json{
      {"name", "Mutator"},
      {"from", "*"},
      {"to", "*"},
      {"before", Json::array({Json{{"reject", Json{{"state", Json{{"type", type}}},
                                                   {"reason", "for testing, of course"}}}}})}};
}

// ---------------------------------------------------------------------------------------------
// Terminal-state protection, both run kinds: HandleFlowTerminalStateTransitions and
// HandleTaskTerminalStateTransitions

TEST_CASE(
    "HandleTaskTerminalStateTransitions: truthy non-object data on COMPLETED is a rule error") {
  CliDb db;
  const std::string id = create_at(db, "task", {"--state", "COMPLETED", "--data", "\"test\""});
  Json out = set_state_at(db, kLater, id, "RUNNING",
                          {"--policy", only(db, Json{"HandleTaskTerminalStateTransitions"})});
  CHECK(out["_exit_code"] == 70);
  CHECK(out["error"] ==
        "Aborting orchestration due to error in HandleTaskTerminalStateTransitions: !'str' "
        "object has no attribute 'get'");
  CHECK(state_type(db.show(id)["state"]) == "COMPLETED");
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: a manual retry resets pause metadata, a fizzle restores "
    "it") {
  CliDb db;
  const std::string id =
      create_at(db, "flow", {"--state", "FAILED", "--pause-keys", "a,b", "--retries", "3"});
  Json fizzled = set_state_at(
      db, kLater, id, "RUNNING",
      {"--policy", only(db, Json{"HandleFlowTerminalStateTransitions", mutator("COMPLETED")})});
  CHECK(fizzled["_exit_code"] == 1);
  CHECK(db.show(id)["empirical_policy"]["pause_keys"] == Json{"a", "b"});

  Json retried = set_state_at(db, kLatest, id, "RUNNING",
                              {"--policy", only(db, Json{"HandleFlowTerminalStateTransitions"})});
  CHECK(retried["_exit_code"] == 0);
  const Json policy = db.show(id)["empirical_policy"];
  CHECK(policy["pause_keys"] == Json::array());
  CHECK(policy["resuming"] == false);
  CHECK(policy["retry_type"].is_null());
  CHECK(policy["retries"] == 3);
}

// ---------------------------------------------------------------------------------------------
// Result-data loss (flows)

TEST_CASE(
    "terminal wiring: PreventResultDataLoss keeps a persisted result against COMPLETED without "
    "data") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "COMPLETED", "--data", kMetadata});
  Json out = set_state_at(db, kLater, id, "COMPLETED",
                          {"--policy", only(db, Json{"PreventResultDataLoss"})});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["status"] == "REJECT");
  CHECK(reason(out) == kDataLoss);
  CHECK(out["rule_signature"] == Json{"PreventResultDataLoss"});
  // The null rejection leaves TO = TERMINAL: invalid on exit, no after hook.
  CHECK(out["finalization_signature"] == Json::array());
  CHECK(out["validated_state"]["data"] == Json::parse(kMetadata));
  CHECK(db.show(id)["state"]["data"] == Json::parse(kMetadata));
}

TEST_CASE("PreventResultDataLoss: --force (the minimal policy) still protects the result") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "COMPLETED", "--data", kMetadata});
  Json out = set_state_at(db, kLater, id, "COMPLETED", {"--force"});
  CHECK(out["_exit_code"] == 1);
  CHECK(reason(out) == kDataLoss);
  CHECK(out["policy"] == "MinimalFlowPolicy");
}

TEST_CASE(
    "PreventResultDataLoss: "
    "unpersisted data is not stored, so COMPLETED -> COMPLETED is accepted") {
  CliDb db;
  const std::string id =
      create_at(db, "flow", {"--state", "COMPLETED", "--data", R"({"type": "unpersisted"})"});
  CHECK(db.show(id)["state"]["data"].is_null());  // read back from the store: nothing kept
  for (const std::string rule : {"PreventResultDataLoss", "HandleFlowTerminalStateTransitions"}) {
    CAPTURE(rule);
    const std::string run =
        create_at(db, "flow", {"--state", "COMPLETED", "--data", R"({"type": "unpersisted"})"});
    Json out = set_state_at(db, kLater, run, "COMPLETED", {"--policy", only(db, Json{rule})});
    CHECK(out["_exit_code"] == 0);
  }
}

TEST_CASE("default CoreFlowPolicy: COMPLETED (persisted) -> COMPLETED without data is rejected") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "COMPLETED", "--data", kMetadata});
  Json out = set_state_at(db, kLater, id, "COMPLETED");
  CHECK(out["_exit_code"] == 1);
  CHECK(reason(out) == kDataLoss);
  CHECK(db.show(id)["state"]["data"] == Json::parse(kMetadata));
}

// ---------------------------------------------------------------------------------------------
// PreventDuplicateTransitions (flow, PENDING -> PENDING)

TEST_CASE("PreventDuplicateTransitions: a retried request under the default policy is rejected") {
  CliDb db;
  const std::string tid = "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c03";
  const std::string id = create_at(db, "flow", {"--state", "RUNNING"});
  Json first = set_state_at(db, kLater, id, "COMPLETED", {"--transition-id", tid});
  CHECK(first["_exit_code"] == 0);
  Json again = set_state_at(db, kLatest, id, "COMPLETED", {"--transition-id", tid});
  CHECK(again["_exit_code"] == 1);
  CHECK(reason(again) == "This run has already made this state transition.");
  CHECK(again["validated_state"]["id"] == first["validated_state"]["id"]);
}

}  // namespace
}  // namespace runctl::clitest
