// End to end through the runctl binary: PreventDuplicateTransitions,
// HandleFlowTerminalStateTransitions, PreventResultDataLoss and
// HandleTaskTerminalStateTransitions, after Prefect's TestTransitionsFromTerminalStatesRule,
// TestPreventResultDataLoss and TestPreventDuplicateTransitions
// (tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

// Every run is created at kCreated and changed at kLater: a run's state timestamps are unique.
const std::string kCreated = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:10+00:00";
const std::string kLatest = "2026-01-01T12:00:20+00:00";
const std::string kDeployment = "5a1f3c1e-0000-4000-8000-000000000001";

const std::vector<std::string> kTerminal = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"};

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

std::string terminal_rule(const std::string& kind) {
  return kind == "flow" ? "HandleFlowTerminalStateTransitions"
                        : "HandleTaskTerminalStateTransitions";
}

// ---------------------------------------------------------------------------------------------
// Terminal-state protection, both run kinds: HandleFlowTerminalStateTransitions and
// HandleTaskTerminalStateTransitions

TEST_CASE("terminal protection: each terminal type -> CRASHED is aborted") {
  CliDb db;
  for (const std::string kind : {"flow", "task"}) {
    const std::string policy = only(db, Json{terminal_rule(kind)});
    for (const std::string& from : kTerminal) {
      CAPTURE(kind);
      CAPTURE(from);
      const std::string id = create_at(db, kind, {"--state", from});
      Json out = set_state_at(db, kLater, id, "CRASHED", {"--policy", policy});
      CHECK(out["_exit_code"] == 3);
      CHECK(out["status"] == "ABORT");
      CHECK(reason(out) == (kind == "flow" ? "Run is already in terminal state " + from + "."
                                           : "Run is already " + from + "."));
      CHECK(state_type(db.show(id)["state"]) == from);
    }
  }
}

TEST_CASE("terminal protection: each terminal type -> CANCELLING is aborted") {
  CliDb db;
  for (const std::string kind : {"flow", "task"}) {
    const std::string policy = only(db, Json{terminal_rule(kind)});
    for (const std::string& from : kTerminal) {
      CAPTURE(kind);
      CAPTURE(from);
      const std::string id = create_at(db, kind, {"--state", from});
      Json out = set_state_at(db, kLater, id, "CANCELLING", {"--policy", policy});
      CHECK(out["_exit_code"] == 3);
      CHECK(out["status"] == "ABORT");
      CHECK(state_type(out["validated_state"]) == from);
    }
  }
}

TEST_CASE("terminal protection: terminal -> PAUSED is aborted too") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "FAILED"});
  Json out = set_state_at(db, kLater, id, "PAUSED",
                          {"--policy", only(db, Json{"HandleFlowTerminalStateTransitions"})});
  CHECK(out["_exit_code"] == 3);
  CHECK(reason(out) == "Run is already in terminal state FAILED.");
}

TEST_CASE("terminal protection: COMPLETED without data -> PENDING/RUNNING/SCHEDULED is accepted") {
  CliDb db;
  for (const std::string kind : {"flow", "task"}) {
    const std::string policy = only(db, Json{terminal_rule(kind)});
    for (const std::string to : {"PENDING", "RUNNING", "SCHEDULED"}) {
      CAPTURE(kind);
      CAPTURE(to);
      // Flows need a deployment to go back to SCHEDULED (Prefect's test skips that pair).
      std::vector<std::string> extra{"--state", "COMPLETED"};
      if (kind == "flow" && std::string(to) == "SCHEDULED")
        extra.insert(extra.end(), {"--deployment-id", kDeployment});
      const std::string id = create_at(db, kind, extra);
      Json out = set_state_at(db, kLater, id, to, {"--policy", policy});
      CHECK(out["_exit_code"] == 0);
      CHECK(out["status"] == "ACCEPT");
      CHECK(state_type(db.show(id)["state"]) == to);
    }
  }
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: "
    "COMPLETED -> SCHEDULED without a deployment is aborted") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "COMPLETED"});
  Json out = set_state_at(db, kLater, id, "SCHEDULED",
                          {"--policy", only(db, Json{"HandleFlowTerminalStateTransitions"})});
  CHECK(out["_exit_code"] == 3);
  CHECK(reason(out) == "Cannot reschedule a run without an associated deployment.");
  CHECK(state_type(db.show(id)["state"]) == "COMPLETED");
}

TEST_CASE(
    "terminal protection: "
    "COMPLETED with a persisted result -> PENDING/RUNNING/SCHEDULED is rejected") {
  CliDb db;
  for (const std::string kind : {"flow", "task"}) {
    const std::string policy = only(db, Json{terminal_rule(kind)});
    for (const std::string to : {"PENDING", "RUNNING", "SCHEDULED"}) {
      CAPTURE(kind);
      CAPTURE(to);
      // No deployment: for flows the persisted-result check comes before the deployment check.
      const std::string id = create_at(db, kind, {"--state", "COMPLETED", "--data", kMetadata});
      const Json before = db.show(id)["state"];
      Json out = set_state_at(db, kLater, id, to, {"--policy", policy});
      CHECK(out["_exit_code"] == 1);
      CHECK(out["status"] == "REJECT");
      CHECK(reason(out) ==
            (kind == "flow" ? "Run is already COMPLETED." : "This run is already completed."));
      CHECK(out["validated_state"]["id"] == before["id"]);
      CHECK(db.show(id)["state"]["id"] == before["id"]);
    }
  }
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: a persisted COMPLETED task rejects even final proposals") {
  CliDb db;
  const std::string policy = only(db, Json{"HandleTaskTerminalStateTransitions"});
  for (const std::string to : {"COMPLETED", "FAILED"}) {
    CAPTURE(to);
    const std::string id = create_at(db, "task", {"--state", "COMPLETED", "--data", kMetadata});
    Json out = set_state_at(db, kLater, id, to, {"--policy", policy});
    CHECK(out["_exit_code"] == 1);
    CHECK(reason(out) == "This run is already completed.");
  }
  // The flow rule lets terminal -> terminal through (the data-loss case aside).
  const std::string flow = create_at(db, "flow", {"--state", "COMPLETED", "--data", kMetadata});
  Json out = set_state_at(db, kLater, flow, "FAILED",
                          {"--policy", only(db, Json{"HandleFlowTerminalStateTransitions"})});
  CHECK(out["_exit_code"] == 0);
}

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

TEST_CASE("terminal protection: not compiled for non-terminal initial states") {
  CliDb db;
  for (const std::string kind : {"flow", "task"}) {
    const std::string policy = only(db, Json{terminal_rule(kind)});
    for (const std::string from : {"", "SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING"}) {
      for (const std::string to : {"PENDING", "RUNNING", "COMPLETED", "CRASHED", "CANCELLING"}) {
        CAPTURE(kind);
        CAPTURE(from);
        CAPTURE(to);
        const std::string id = create_at(
            db, kind,
            from.empty() ? std::vector<std::string>{} : std::vector<std::string>{"--state", from});
        Json out = set_state_at(db, kLater, id, to, {"--policy", policy});
        CHECK(out["_exit_code"] == 0);
        CHECK(out["rule_signature"] == Json::array());
        CHECK(state_type(out["validated_state"]) == to);
      }
    }
  }
}

TEST_CASE("HandleTaskTerminalStateTransitions: a rerun resets run_count, a fizzle restores it") {
  CliDb db;
  const std::string id = create_at(db, "task", {"--state", "FAILED"});
  set_run_count(db, id, 2);
  Json fizzled = set_state_at(
      db, kLater, id, "RUNNING",
      {"--policy", only(db, Json{"HandleTaskTerminalStateTransitions", mutator("CANCELLED")})});
  CHECK(fizzled["_exit_code"] == 1);
  CHECK(state_type(fizzled["validated_state"]) == "CANCELLED");
  CHECK(db.show(id)["run_count"] == 2);
  CHECK_FALSE(signed_by(fizzled["finalization_signature"], "HandleTaskTerminalStateTransitions"));

  Json rerun = set_state_at(db, kLatest, id, "RUNNING",
                            {"--policy", only(db, Json{"HandleTaskTerminalStateTransitions"})});
  CHECK(rerun["_exit_code"] == 0);
  CHECK(db.show(id)["run_count"] == 0);
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: a rerun during a later flow attempt is renamed Retrying") {
  CliDb db;
  const std::string flow = create_at(db, "flow", {"--state", "RUNNING"});
  const std::string task = create_at(db, "task", {"--flow-run", flow, "--state", "FAILED"});
  set_run_count(db, flow, 4);
  db.update_run(task, [](Run& run) {
    run.flow_run_run_count = 2;
    run.run_count = 2;
  });
  Json out = set_state_at(db, kLater, task, "RUNNING",
                          {"--policy", only(db, Json{"HandleTaskTerminalStateTransitions"})});
  CHECK(out["_exit_code"] == 0);
  CHECK(out["validated_state"]["name"] == "Retrying");
  CHECK(db.show(task)["run_count"] == 0);

  // Same attempt: the name stays.
  const std::string same = create_at(db, "task", {"--flow-run", flow, "--state", "FAILED"});
  set_flow_run_run_count(db, same, 4);
  Json kept = set_state_at(db, kLater, same, "RUNNING",
                           {"--policy", only(db, Json{"HandleTaskTerminalStateTransitions"})});
  CHECK(kept["validated_state"]["name"] == "Running");
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

TEST_CASE(
    "HandleFlowTerminalStateTransitions: rescheduling with a deployment sets retry_type, old "
    "clients skip it") {
  CliDb db;
  const std::string policy = only(db, Json{"HandleFlowTerminalStateTransitions"});
  const std::string id = create_at(
      db, "flow", {"--state", "FAILED", "--deployment-id", kDeployment, "--pause-keys", "a"});
  set_run_count(db, id, 2);
  Json out =
      set_state_at(db, kLater, id, "SCHEDULED", {"--name", "AwaitingRetry", "--policy", policy});
  CHECK(out["_exit_code"] == 0);
  const Json shown = db.show(id);
  CHECK(shown["empirical_policy"]["retry_type"] == "reschedule");
  CHECK(shown["empirical_policy"]["pause_keys"] == Json::array());
  CHECK(shown["run_count"] == 2);  // flows keep run_count on manual retries

  const std::string old = create_at(db, "flow", {"--state", "FAILED", "--pause-keys", "a"});
  Json legacy = set_state_at(db, kLater, old, "RUNNING",
                             {"--policy", policy, "--param", "api-version=0.8.3"});
  CHECK(legacy["_exit_code"] == 0);
  CHECK(db.show(old)["empirical_policy"]["pause_keys"] == Json{"a"});
}

// ---------------------------------------------------------------------------------------------
// Result-data loss (flows)

TEST_CASE("PreventResultDataLoss: COMPLETED (persisted) -> COMPLETED without data is rejected") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "COMPLETED", "--data", kMetadata});
  Json out = set_state_at(db, kLater, id, "COMPLETED",
                          {"--policy", only(db, Json{"PreventResultDataLoss"})});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["status"] == "REJECT");
  CHECK(reason(out) == kDataLoss);
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

TEST_CASE("PreventResultDataLoss: COMPLETED without data -> COMPLETED is accepted") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "COMPLETED"});
  Json out = set_state_at(db, kLater, id, "COMPLETED",
                          {"--policy", only(db, Json{"PreventResultDataLoss"})});
  CHECK(out["_exit_code"] == 0);
  CHECK(out["finalization_signature"] == Json{"PreventResultDataLoss"});
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

TEST_CASE(
    "HandleFlowTerminalStateTransitions: "
    "COMPLETED (persisted) -> COMPLETED without data is rejected") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "COMPLETED", "--data", kMetadata});
  Json out = set_state_at(db, kLater, id, "COMPLETED",
                          {"--policy", only(db, Json{"HandleFlowTerminalStateTransitions"})});
  CHECK(out["_exit_code"] == 1);
  CHECK(reason(out) == kDataLoss);
}

TEST_CASE("default CoreFlowPolicy: COMPLETED (persisted) -> COMPLETED without data is rejected") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "COMPLETED", "--data", kMetadata});
  Json out = set_state_at(db, kLater, id, "COMPLETED");
  CHECK(out["_exit_code"] == 1);
  CHECK(reason(out) == kDataLoss);
  CHECK(db.show(id)["state"]["data"] == Json::parse(kMetadata));
}

// The data predicate both rules share: Prefect's core_policy._has_persisted_result.
TEST_CASE("data predicate: scalar initial data -> COMPLETED is accepted by both rules") {
  CliDb db;
  for (const std::string data : {"1", "\"hello\"", "true", "[1, 2, 3]"}) {
    for (const std::string rule : {"PreventResultDataLoss", "HandleFlowTerminalStateTransitions"}) {
      CAPTURE(data);
      CAPTURE(rule);
      const std::string id = create_at(db, "flow", {"--state", "COMPLETED", "--data", data});
      CHECK(db.show(id)["state"]["data"] == Json::parse(data));
      Json out = set_state_at(db, kLater, id, "COMPLETED", {"--policy", only(db, Json{rule})});
      CHECK(out["_exit_code"] == 0);
      CHECK(out["status"] == "ACCEPT");
      CHECK(out["error"].is_null());
    }
  }
}

TEST_CASE("data predicate: scalar COMPLETED data does not block a flow rerun") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "COMPLETED", "--data", "\"hello\""});
  Json out = set_state_at(db, kLater, id, "RUNNING",
                          {"--policy", only(db, Json{"HandleFlowTerminalStateTransitions"})});
  CHECK(out["_exit_code"] == 0);
}

TEST_CASE("data predicate: persisted initial, scalar proposal data is rejected") {
  CliDb db;
  for (const std::string data : {"1", "\"hello\"", "true", "[1, 2, 3]"}) {
    for (const std::string rule : {"PreventResultDataLoss", "HandleFlowTerminalStateTransitions"}) {
      CAPTURE(data);
      CAPTURE(rule);
      const std::string id = create_at(db, "flow", {"--state", "COMPLETED", "--data", kMetadata});
      Json out = set_state_at(db, kLater, id, "COMPLETED",
                              {"--data", data, "--policy", only(db, Json{rule})});
      CHECK(out["_exit_code"] == 1);
      CHECK(reason(out) == kDataLoss);
    }
  }
}

TEST_CASE("data predicate: persisted -> persisted COMPLETED is accepted") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "COMPLETED", "--data", kMetadata});
  Json out = set_state_at(db, kLater, id, "COMPLETED",
                          {"--data", R"({"storage_key": "/results/def"})", "--policy",
                           only(db, Json{"PreventResultDataLoss"})});
  CHECK(out["_exit_code"] == 0);
  CHECK(db.show(id)["state"]["data"] == Json{{"storage_key", "/results/def"}});
}

// ---------------------------------------------------------------------------------------------
// PreventDuplicateTransitions (flow, PENDING -> PENDING)

TEST_CASE("PreventDuplicateTransitions: neither state has a transition_id: accepted") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "PENDING"});
  Json out = set_state_at(db, kLater, id, "PENDING",
                          {"--policy", only(db, Json{"PreventDuplicateTransitions"})});
  CHECK(out["_exit_code"] == 0);
  CHECK(out["status"] == "ACCEPT");
}

TEST_CASE("PreventDuplicateTransitions: only the initial state has one: accepted") {
  CliDb db;
  const std::string id =
      create_at(db, "flow",
                {"--state", "PENDING", "--transition-id", "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c01"});
  Json out = set_state_at(db, kLater, id, "PENDING",
                          {"--policy", only(db, Json{"PreventDuplicateTransitions"})});
  CHECK(out["_exit_code"] == 0);
}

TEST_CASE("PreventDuplicateTransitions: only the proposal has one: accepted") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "PENDING"});
  Json out = set_state_at(db, kLater, id, "PENDING",
                          {"--transition-id", "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c01", "--policy",
                           only(db, Json{"PreventDuplicateTransitions"})});
  CHECK(out["_exit_code"] == 0);
}

TEST_CASE("PreventDuplicateTransitions: different ids: accepted") {
  CliDb db;
  const std::string id =
      create_at(db, "flow",
                {"--state", "PENDING", "--transition-id", "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c01"});
  Json out = set_state_at(db, kLater, id, "PENDING",
                          {"--transition-id", "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c02", "--policy",
                           only(db, Json{"PreventDuplicateTransitions"})});
  CHECK(out["_exit_code"] == 0);
}

TEST_CASE("PreventDuplicateTransitions: the same id on both: rejected, the current state kept") {
  CliDb db;
  const std::string tid = "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c01";
  const std::string id = create_at(db, "flow", {"--state", "PENDING", "--transition-id", tid});
  const Json before = db.show(id)["state"];
  Json out = set_state_at(
      db, kLater, id, "PENDING",
      {"--transition-id", tid, "--policy", only(db, Json{"PreventDuplicateTransitions"})});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["status"] == "REJECT");
  CHECK(reason(out) == "This run has already made this state transition.");
  CHECK(out["validated_state"]["id"] == before["id"]);
  CHECK(out["finalization_signature"] == Json{"PreventDuplicateTransitions"});
  CHECK(db.show(id)["state"]["id"] == before["id"]);
}

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
