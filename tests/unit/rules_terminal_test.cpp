// lib/rules/terminal.cpp: PreventDuplicateTransitions, HandleFlowTerminalStateTransitions,
// PreventResultDataLoss, HandleTaskTerminalStateTransitions, driven through the chain runner as
// Prefect's tests drive them: TestManualFlowRetries, TestPermitRerunningFailedTaskRuns,
// TestTransitionsFromTerminalStatesRule, TestPreventResultDataLoss and
// TestPreventDuplicateTransitions in Prefect's tests/server/orchestration/test_core_policy.py.
#include <doctest/doctest.h>

#include "engine_fixture.hpp"
#include "rules/registry.hpp"

namespace runctl::testing {
namespace {

const std::vector<StateType> kTerminal = {kCompleted, kFailed, kCancelled, kCrashed};

const char* const kDataLoss =
    "Cannot overwrite a COMPLETED state that carries persisted result data with one that does "
    "not.";

PolicyEntry builtin(std::string_view name) {
  const BuiltinEntry* e = find_builtin_entry(name);
  REQUIRE(e != nullptr);
  return e->entry;
}

// What Prefect's tests store as a persisted result: ResultRecordMetadata dumped to a dict.
Json result_metadata() {
  return Json{{"storage_key", "/results/abc"},
              {"expiration", nullptr},
              {"serializer", {{"type", "pickle"}}},
              {"prefect_version", "3.4.0"},
              {"storage_block_id", nullptr}};
}

void set_data(const StatePtr& s, const Json& data) {
  s->data = std::make_shared<Json>(data);
}

bool contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// A later rule that rejects into a copy of the proposal re-typed to `type` (Prefect's mutator).
std::shared_ptr<TestRule> retyping_rejector(StateType type) {
  auto rule = make_rule("Mutator");
  rule->on_before = [type](RuleHook& hook) {
    auto copy = hook.context().proposed_state;
    copy->type = type;
    hook.reject_transition(copy, "for testing, of course");
  };
  return rule;
}

// Services whose read_flow_run answers with one configured flow run.
class ParentFlowServices final : public DetachedServices {
 public:
  std::optional<RunSnapshot> parent;
  std::vector<std::string> reads;

  std::optional<RunSnapshot> read_flow_run(const std::string& id) override {
    reads.push_back(id);
    if (parent && parent->run.id == id) return parent;
    return std::nullopt;
  }
};

// ---------------------------------------------------------------------------------------------
// PreventDuplicateTransitions

struct DuplicateCase {
  const char* title;
  std::optional<std::string> initial_id, proposed_id;
  SetStateStatus status;
};

TEST_CASE("PreventDuplicateTransitions: only equal transition ids are rejected") {
  const std::string a = "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c01";
  const std::string b = "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c02";
  const std::vector<DuplicateCase> cases = {
      {"150 neither state has one", std::nullopt, std::nullopt, SetStateStatus::kAccept},
      {"151 only the initial has one", a, std::nullopt, SetStateStatus::kAccept},
      {"152 only the proposal has one", std::nullopt, a, SetStateStatus::kAccept},
      {"153 different ids", a, b, SetStateStatus::kAccept},
      {"154 same id", a, a, SetStateStatus::kReject},
  };
  for (const auto& c : cases) {
    CAPTURE(c.title);
    Harness h(kPending, kPending, RunKind::kFlow);
    h.ctx.initial_state->details->transition_id = c.initial_id;
    h.ctx.proposed_state->details->transition_id = c.proposed_id;
    const std::string initial_id = h.ctx.initial_state->id;
    h.run_chain({builtin("PreventDuplicateTransitions")});
    CHECK(name_of(h.ctx.response_status) == name_of(c.status));
    if (c.status == SetStateStatus::kReject) {
      CHECK(h.ctx.response_details ==
            ResponseDetails::reject("This run has already made this state transition."));
      REQUIRE(h.ctx.validated_state);
      CHECK(h.ctx.validated_state->id == initial_id);  // the current state is kept
      CHECK(h.services.written_ids.empty());
    } else {
      CHECK(name_of(h.ctx.validated_state) == "PENDING");
      CHECK(h.ctx.validated_state->id == h.ctx.proposed_state->id);
    }
    // TO = ALL contains null: the rule stays valid after its own null rejection.
    CHECK(h.ctx.rule_signature == std::vector<std::string>{"PreventDuplicateTransitions"});
    CHECK(h.ctx.finalization_signature == std::vector<std::string>{"PreventDuplicateTransitions"});
  }
}

TEST_CASE("PreventDuplicateTransitions: a run without a state is not compared (null-guard)") {
  Harness h(std::nullopt, kPending, RunKind::kFlow);
  h.ctx.proposed_state->details->transition_id = "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c01";
  h.run_chain({builtin("PreventDuplicateTransitions")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "PENDING");
}

TEST_CASE("PreventDuplicateTransitions: applies to every transition, terminal ones included") {
  Harness h(kCompleted, kCompleted, RunKind::kFlow);
  h.ctx.initial_state->details->transition_id = "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c01";
  h.ctx.proposed_state->details->transition_id = "0b7c8b53-6a49-4a8f-9a55-5b6f2f7a1c01";
  h.run_chain({builtin("PreventDuplicateTransitions")});
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(name_of(h.ctx.validated_state) == "COMPLETED");
}

// ---------------------------------------------------------------------------------------------
// HandleFlowTerminalStateTransitions

TEST_CASE("HandleFlowTerminalStateTransitions: terminal -> CRASHED/CANCELLING/PAUSED aborts") {
  for (StateType from : kTerminal) {
    for (StateType to : {kCrashed, kCancelling, kPaused}) {
      CAPTURE(name_of(from));
      CAPTURE(name_of(to));
      Harness h(from, to, RunKind::kFlow);
      h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
      CHECK(name_of(h.ctx.response_status) == "ABORT");
      CHECK(h.ctx.response_details ==
            ResponseDetails::abort("Run is already in terminal state " + name_of(from) + "."));
      CHECK(name_of(h.ctx.validated_state) == name_of(from));
    }
  }
}

TEST_CASE("HandleFlowTerminalStateTransitions: TO = ALL keeps the rule valid after its abort") {
  // An abort sets the rule's to-type to null, which TO = ALL contains: the after hook runs.
  Harness h(kFailed, kCrashed, RunKind::kFlow);
  h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
  CHECK(h.ctx.rule_signature == std::vector<std::string>{"HandleFlowTerminalStateTransitions"});
  CHECK(h.ctx.finalization_signature ==
        std::vector<std::string>{"HandleFlowTerminalStateTransitions"});
}

TEST_CASE("HandleFlowTerminalStateTransitions: COMPLETED without data may be rerun") {
  for (StateType to : {kPending, kRunning}) {
    CAPTURE(name_of(to));
    Harness h(kCompleted, to, RunKind::kFlow);
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(name_of(h.ctx.validated_state) == name_of(to));
  }
  // SCHEDULED needs a deployment (Prefect's test skips it for flows); with one it is accepted.
  Harness h(kCompleted, kScheduled, RunKind::kFlow);
  h.run.deployment_id = "5a1f3c1e-0000-4000-8000-000000000001";
  h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "SCHEDULED");
}

TEST_CASE("HandleFlowTerminalStateTransitions: COMPLETED with a persisted result is kept") {
  for (StateType to : {kPending, kRunning, kScheduled}) {
    CAPTURE(name_of(to));
    Harness h(kCompleted, to, RunKind::kFlow);
    set_data(h.ctx.initial_state, result_metadata());
    const std::string initial_id = h.ctx.initial_state->id;
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "REJECT");
    CHECK(h.ctx.response_details == ResponseDetails::reject("Run is already COMPLETED."));
    REQUIRE(h.ctx.validated_state);
    CHECK(h.ctx.validated_state->id == initial_id);
  }
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: data that is not persisted metadata allows a rerun") {
  const std::vector<Json> not_persisted = {Json{{"type", "unpersisted"}},
                                           Json::object(),
                                           Json(1),
                                           Json("hello"),
                                           Json(true),
                                           Json{1, 2, 3}};
  for (const Json& data : not_persisted) {
    CAPTURE(data.dump());
    Harness h(kCompleted, kRunning, RunKind::kFlow);
    set_data(h.ctx.initial_state, data);
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  }
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: terminal -> terminal is allowed, even from persisted "
    "COMPLETED") {
  for (StateType from : kTerminal) {
    for (StateType to : {kCompleted, kFailed, kCancelled}) {
      if (from == kCompleted && to == kCompleted) continue;  // the data-loss case, below
      CAPTURE(name_of(from));
      CAPTURE(name_of(to));
      Harness h(from, to, RunKind::kFlow);
      set_data(h.ctx.initial_state, result_metadata());
      h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
      CHECK(name_of(h.ctx.response_status) == "ACCEPT");
      CHECK(name_of(h.ctx.validated_state) == name_of(to));
    }
  }
}

TEST_CASE("HandleFlowTerminalStateTransitions: not compiled for non-terminal initial states") {
  const StateTypeSet non_terminal = {std::nullopt, kScheduled, kPending,
                                     kRunning,     kPaused,    kCancelling};
  non_terminal.for_each([&](MaybeType from) {
    for (StateType to : all_types()) {
      CAPTURE(name_of(from));
      CAPTURE(name_of(to));
      Harness h(from, to, RunKind::kFlow);
      h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
      CHECK(name_of(h.ctx.response_status) == "ACCEPT");
      CHECK(h.ctx.rule_signature.empty());
    }
  });
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: "
    "COMPLETED (persisted) -> COMPLETED (no data) is rejected") {
  Harness h(kCompleted, kCompleted, RunKind::kFlow);
  set_data(h.ctx.initial_state, result_metadata());
  h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(h.ctx.response_details == ResponseDetails::reject(kDataLoss));
  CHECK(h.ctx.validated_state->id == h.ctx.initial_state->id);
}

TEST_CASE("HandleFlowTerminalStateTransitions: scalar initial data -> COMPLETED is accepted") {
  for (const Json& data : {Json(1), Json("hello"), Json(true), Json{1, 2, 3}}) {
    CAPTURE(data.dump());
    Harness h(kCompleted, kCompleted, RunKind::kFlow);
    set_data(h.ctx.initial_state, data);
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK_FALSE(h.ctx.orchestration_error);
  }
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: "
    "persisted initial, scalar proposal data is rejected") {
  for (const Json& data :
       {Json(1), Json("hello"), Json(true), Json{1, 2, 3}, Json{{"type", "unpersisted"}}}) {
    CAPTURE(data.dump());
    Harness h(kCompleted, kCompleted, RunKind::kFlow);
    set_data(h.ctx.initial_state, result_metadata());
    set_data(h.ctx.proposed_state, data);
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "REJECT");
    CHECK(h.ctx.response_details == ResponseDetails::reject(kDataLoss));
  }
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: persisted -> persisted (even an empty object) is "
    "accepted") {
  for (const Json& data : {result_metadata(), Json::object()}) {
    CAPTURE(data.dump());
    Harness h(kCompleted, kCompleted, RunKind::kFlow);
    set_data(h.ctx.initial_state, result_metadata());
    set_data(h.ctx.proposed_state, data);
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  }
}

TEST_CASE("HandleFlowTerminalStateTransitions: rescheduling without a deployment aborts") {
  Harness h(kFailed, kScheduled, RunKind::kFlow);
  h.ctx.proposed_state->name = "AwaitingRetry";
  h.run.run_count = 2;
  h.run.empirical_policy = Json{{"retries", 1}};
  h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
  CHECK(name_of(h.ctx.response_status) == "ABORT");
  CHECK(h.ctx.response_details ==
        ResponseDetails::abort("Cannot reschedule a run without an associated deployment."));
  CHECK(h.run.run_count == 2);
  CHECK(h.run.empirical_policy == Json{{"retries", 1}});  // aborted before the policy reset
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: COMPLETED -> SCHEDULED without a deployment aborts") {
  Harness h(kCompleted, kScheduled, RunKind::kFlow);
  const std::string initial_id = h.ctx.initial_state->id;
  h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
  CHECK(name_of(h.ctx.response_status) == "ABORT");
  CHECK(h.ctx.response_details ==
        ResponseDetails::abort("Cannot reschedule a run without an associated deployment."));
  REQUIRE(h.ctx.validated_state);
  CHECK(h.ctx.validated_state->id == initial_id);
  CHECK(h.services.written_ids.empty());
}

TEST_CASE("HandleFlowTerminalStateTransitions: manual retries keep run_count") {
  struct Case {
    const char* name;
    int retries, run_count;
  };
  for (const Case& c :
       {Case{"FooBar", 1, 2}, Case{"AwaitingRetry", 1, 2}, Case{"AwaitingRetry", 10, 3}}) {
    CAPTURE(c.name);
    Harness h(kFailed, kScheduled, RunKind::kFlow);
    h.ctx.proposed_state->name = c.name;
    h.run.deployment_id = "5a1f3c1e-0000-4000-8000-000000000001";
    h.run.run_count = c.run_count;
    h.run.empirical_policy = Json{{"retries", c.retries}};
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(h.ctx.validated_state->name == c.name);
    CHECK(h.run.run_count == c.run_count);
  }
}

TEST_CASE("HandleFlowTerminalStateTransitions: leaving a terminal state resets pause metadata") {
  const Json before = Json{{"retries", 1},     {"pause_keys", {"a", "b"}},
                           {"resuming", true}, {"retry_type", "in_process"},
                           {"max_retries", 0}, {"retry_delay_seconds", 0}};
  SUBCASE("FAILED -> SCHEDULED (AwaitingRetry): retry_type reschedule") {
    Harness h(kFailed, kScheduled, RunKind::kFlow);
    h.ctx.proposed_state->name = "AwaitingRetry";
    h.run.deployment_id = "5a1f3c1e-0000-4000-8000-000000000001";
    h.run.empirical_policy = before;
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(h.run.empirical_policy["retry_type"] == "reschedule");
    CHECK(h.run.empirical_policy["resuming"] == false);
    CHECK(h.run.empirical_policy["pause_keys"] == Json::array());
    CHECK(h.run.empirical_policy["retries"] == 1);
  }
  SUBCASE("FAILED -> RUNNING: retry_type null") {
    Harness h(kFailed, kRunning, RunKind::kFlow);
    h.run.empirical_policy = before;
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(h.run.empirical_policy["retry_type"].is_null());
    CHECK(h.run.empirical_policy["resuming"] == false);
    CHECK(h.run.empirical_policy["pause_keys"] == Json::array());
  }
  SUBCASE("FAILED -> FAILED: a final proposal leaves the policy alone") {
    Harness h(kFailed, kFailed, RunKind::kFlow);
    h.run.empirical_policy = before;
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(h.run.empirical_policy == before);
  }
  SUBCASE("api-version 0.8.4 resets, 0.8.3 (an old client) does not") {
    for (const char* version : {"0.8.4", "0.9.0"}) {
      Harness h(kFailed, kRunning, RunKind::kFlow);
      h.run.empirical_policy = before;
      h.ctx.parameters["api-version"] = version;
      h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
      CHECK(h.run.empirical_policy["resuming"] == false);
    }
    Harness h(kFailed, kRunning, RunKind::kFlow);
    h.run.empirical_policy = before;
    h.ctx.parameters["api-version"] = "0.8.3";
    h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(h.run.empirical_policy == before);
  }
}

TEST_CASE("HandleFlowTerminalStateTransitions: an unparsable api-version is a rule error") {
  Harness h(kFailed, kRunning, RunKind::kFlow);
  h.ctx.parameters["api-version"] = "banana";
  h.run_chain({builtin("HandleFlowTerminalStateTransitions")});
  CHECK(name_of(h.ctx.response_status) == "ABORT");
  REQUIRE(h.ctx.orchestration_error);
  CHECK(*h.ctx.orchestration_error ==
        "Aborting orchestration due to error in HandleFlowTerminalStateTransitions: !Invalid "
        "version: 'banana'");
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: cleanup restores the policy when a later rule fizzles "
    "it") {
  Harness h(kFailed, kRunning, RunKind::kFlow);
  const Json before =
      Json{{"retries", 3}, {"pause_keys", {"k"}}, {"resuming", true}, {"retry_type", "in_process"}};
  h.run.empirical_policy = before;
  auto mutator = retyping_rejector(kCompleted);
  h.run_chain({builtin("HandleFlowTerminalStateTransitions"), entry(mutator)});
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(name_of(h.ctx.validated_state) == "COMPLETED");
  CHECK(h.run.empirical_policy == before);
  CHECK_FALSE(contains(h.ctx.finalization_signature, "HandleFlowTerminalStateTransitions"));
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: cleanup after a null-guard return raises, as Prefect's "
    "AttributeError") {
  // Intended FAILED -> NONE: the before hook returns at its null-guard without saving the
  // policy; a later rule then proposes a state, fizzling the rule, whose cleanup has nothing to
  // restore.
  Harness h(kFailed, std::nullopt, RunKind::kFlow);
  auto proposer = make_rule("Proposer");
  proposer->on_before = [&h](RuleHook& hook) {
    hook.reject_transition(h.state(kRunning), "a new state after all");
  };
  ChainOutcome out = h.run_chain({builtin("HandleFlowTerminalStateTransitions"), entry(proposer)});
  REQUIRE(out.escaped);
  CHECK(message_of(out.escaped) ==
        "'HandleFlowTerminalStateTransitions' object has no attribute 'original_flow_policy'");
}

// ---------------------------------------------------------------------------------------------
// PreventResultDataLoss

TEST_CASE("PreventResultDataLoss: COMPLETED (persisted) -> COMPLETED (no data) is rejected") {
  Harness h(kCompleted, kCompleted, RunKind::kFlow);
  set_data(h.ctx.initial_state, result_metadata());
  const std::string initial_id = h.ctx.initial_state->id;
  h.run_chain({builtin("PreventResultDataLoss")});
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(h.ctx.response_details == ResponseDetails::reject(kDataLoss));
  REQUIRE(h.ctx.validated_state);
  CHECK(h.ctx.validated_state->id == initial_id);
  CHECK(*h.ctx.validated_state->data == result_metadata());
  // The null rejection leaves TO = TERMINAL: invalid on exit, no after hook.
  CHECK(h.ctx.rule_signature == std::vector<std::string>{"PreventResultDataLoss"});
  CHECK(h.ctx.finalization_signature.empty());
}

TEST_CASE("PreventResultDataLoss: COMPLETED (no data) -> COMPLETED is accepted") {
  Harness h(kCompleted, kCompleted, RunKind::kFlow);
  h.run_chain({builtin("PreventResultDataLoss")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"PreventResultDataLoss"});
}

TEST_CASE("PreventResultDataLoss: COMPLETED with unpersisted data -> COMPLETED is accepted") {
  Harness h(kCompleted, kCompleted, RunKind::kFlow);
  set_data(h.ctx.initial_state, Json{{"type", "unpersisted"}});
  h.run_chain({builtin("PreventResultDataLoss")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
}

TEST_CASE("PreventResultDataLoss: scalar initial data -> COMPLETED is accepted") {
  for (const Json& data : {Json(1), Json("hello"), Json(true), Json{1, 2, 3}, Json::object()}) {
    CAPTURE(data.dump());
    Harness h(kCompleted, kCompleted, RunKind::kFlow);
    set_data(h.ctx.initial_state, data);
    h.run_chain({builtin("PreventResultDataLoss")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK_FALSE(h.ctx.orchestration_error);
  }
}

TEST_CASE("PreventResultDataLoss: persisted initial, scalar proposal data is rejected") {
  for (const Json& data : {Json(1), Json("hello"), Json(true), Json{1, 2, 3}}) {
    CAPTURE(data.dump());
    Harness h(kCompleted, kCompleted, RunKind::kFlow);
    set_data(h.ctx.initial_state, result_metadata());
    set_data(h.ctx.proposed_state, data);
    h.run_chain({builtin("PreventResultDataLoss")});
    CHECK(name_of(h.ctx.response_status) == "REJECT");
    CHECK(h.ctx.response_details == ResponseDetails::reject(kDataLoss));
  }
}

TEST_CASE("PreventResultDataLoss: only COMPLETED -> COMPLETED is guarded") {
  for (StateType from : kTerminal) {
    for (StateType to : kTerminal) {
      if (from == kCompleted && to == kCompleted) continue;
      CAPTURE(name_of(from));
      CAPTURE(name_of(to));
      Harness h(from, to, RunKind::kFlow);
      set_data(h.ctx.initial_state, result_metadata());
      h.run_chain({builtin("PreventResultDataLoss")});
      CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    }
  }
  // Non-terminal ends are not compiled at all.
  Harness h(kCompleted, kRunning, RunKind::kFlow);
  set_data(h.ctx.initial_state, result_metadata());
  h.run_chain({builtin("PreventResultDataLoss")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(h.ctx.rule_signature.empty());
}

// ---------------------------------------------------------------------------------------------
// HandleTaskTerminalStateTransitions

TEST_CASE("HandleTaskTerminalStateTransitions: terminal -> CRASHED/CANCELLING/PAUSED aborts") {
  for (StateType from : kTerminal) {
    for (StateType to : {kCrashed, kCancelling, kPaused}) {
      CAPTURE(name_of(from));
      CAPTURE(name_of(to));
      Harness h(from, to, RunKind::kTask);
      h.run.run_count = 3;
      h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
      CHECK(name_of(h.ctx.response_status) == "ABORT");
      CHECK(h.ctx.response_details ==
            ResponseDetails::abort("Run is already " + name_of(from) + "."));
      CHECK(name_of(h.ctx.validated_state) == name_of(from));
      CHECK(h.run.run_count == 3);
    }
  }
}

TEST_CASE("HandleTaskTerminalStateTransitions: COMPLETED without data may be rerun") {
  for (StateType to : {kPending, kRunning, kScheduled}) {
    CAPTURE(name_of(to));
    Harness h(kCompleted, to, RunKind::kTask);
    h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(name_of(h.ctx.validated_state) == name_of(to));
  }
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: "
    "COMPLETED with a persisted result is kept, for any proposal") {
  for (StateType to : {kPending, kRunning, kScheduled, kCompleted, kFailed, kCancelled}) {
    CAPTURE(name_of(to));
    Harness h(kCompleted, to, RunKind::kTask);
    set_data(h.ctx.initial_state, result_metadata());
    h.run.run_count = 2;
    h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "REJECT");
    CHECK(h.ctx.response_details == ResponseDetails::reject("This run is already completed."));
    CHECK(h.ctx.validated_state->id == h.ctx.initial_state->id);
    CHECK(h.run.run_count == 2);
  }
}

TEST_CASE("HandleTaskTerminalStateTransitions: unpersisted or empty data allows a rerun") {
  for (const Json& data : {Json{{"type", "unpersisted"}}, Json::object(), Json(0), Json("")}) {
    CAPTURE(data.dump());
    Harness h(kCompleted, kRunning, RunKind::kTask);
    set_data(h.ctx.initial_state, data);
    h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  }
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: truthy non-object data on COMPLETED raises (Prefect's "
    ".get)") {
  struct Case {
    Json data;
    const char* type;
  };
  for (const Case& c : {Case{Json("test"), "str"}, Case{Json(1), "int"}, Case{Json{1}, "list"},
                        Case{Json(true), "bool"}, Case{Json(1.5), "float"}}) {
    CAPTURE(c.data.dump());
    Harness h(kCompleted, kRunning, RunKind::kTask);
    set_data(h.ctx.initial_state, c.data);
    h.run.run_count = 4;
    h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ABORT");
    REQUIRE(h.ctx.orchestration_error);
    CHECK(*h.ctx.orchestration_error ==
          "Aborting orchestration due to error in HandleTaskTerminalStateTransitions: !'" +
              std::string(c.type) + "' object has no attribute 'get'");
    CHECK(h.run.run_count == 4);  // fizzled by its own error: cleanup restores
  }
}

TEST_CASE("HandleTaskTerminalStateTransitions: data on a FAILED state is never inspected") {
  Harness h(kFailed, kRunning, RunKind::kTask);
  set_data(h.ctx.initial_state, Json("test"));
  h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
}

TEST_CASE("HandleTaskTerminalStateTransitions: run_count resets only for non-final proposals") {
  for (StateType to : {kScheduled, kPending, kRunning}) {
    CAPTURE(name_of(to));
    Harness h(kFailed, to, RunKind::kTask);
    h.run.run_count = 5;
    h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
    CHECK(h.run.run_count == 0);
  }
  for (StateType to : {kCompleted, kFailed, kCancelled}) {
    CAPTURE(name_of(to));
    Harness h(kFailed, to, RunKind::kTask);
    h.run.run_count = 5;
    h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(h.run.run_count == 5);
  }
}

TEST_CASE("HandleTaskTerminalStateTransitions: not compiled for non-terminal initial states") {
  const StateTypeSet non_terminal = {std::nullopt, kScheduled, kPending,
                                     kRunning,     kPaused,    kCancelling};
  non_terminal.for_each([&](MaybeType from) {
    for (StateType to : all_types()) {
      CAPTURE(name_of(from));
      CAPTURE(name_of(to));
      Harness h(from, to, RunKind::kTask);
      h.run.run_count = 2;
      h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
      CHECK(name_of(h.ctx.response_status) == "ACCEPT");
      CHECK(h.run.run_count == 2);
    }
  });
}

struct RetryFixture {
  Harness h{kFailed, kRunning, RunKind::kTask};
  ParentFlowServices services;

  RetryFixture(int flow_run_count, int tracker) {
    RunSnapshot parent;
    parent.run.kind = RunKind::kFlow;
    parent.run.id = "9d0c7a3e-0000-4000-8000-00000000f10e";
    parent.run.run_count = flow_run_count;
    services.parent = parent;
    h.run.flow_run_id = parent.run.id;
    h.run.flow_run_run_count = tracker;
    h.run.run_count = 2;
    h.ctx.services = &services;
  }
};

TEST_CASE(
    "HandleTaskTerminalStateTransitions: "
    "a rerun inside a later flow attempt is renamed Retrying") {
  RetryFixture f(/*flow_run_count=*/4, /*tracker=*/2);
  f.h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
  CHECK(name_of(f.h.ctx.response_status) == "ACCEPT");
  CHECK(f.h.run.run_count == 0);
  CHECK(f.h.ctx.validated_state->name == "Retrying");
  CHECK(f.services.reads == std::vector<std::string>{*f.h.run.flow_run_id});
}

TEST_CASE("HandleTaskTerminalStateTransitions: same flow attempt keeps the name") {
  RetryFixture f(/*flow_run_count=*/3, /*tracker=*/3);
  f.h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
  CHECK(name_of(f.h.ctx.response_status) == "ACCEPT");
  CHECK(f.h.run.run_count == 0);
  CHECK(f.h.ctx.validated_state->name == "Running");
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: no rename without a parent flow run, or when it is gone") {
  SUBCASE("no flow_run_id: the flow run is not read") {
    RetryFixture f(4, 2);
    f.h.run.flow_run_id.reset();
    f.h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
    CHECK(f.h.ctx.validated_state->name == "Running");
    CHECK(f.services.reads.empty());
  }
  SUBCASE("the flow run is missing") {
    RetryFixture f(4, 2);
    f.services.parent.reset();
    f.h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
    CHECK(name_of(f.h.ctx.response_status) == "ACCEPT");
    CHECK(f.h.ctx.validated_state->name == "Running");
  }
  SUBCASE("only RUNNING proposals are renamed") {
    RetryFixture f(4, 2);
    f.h.ctx.proposed_state = f.h.state(kScheduled);
    Harness& h = f.h;
    h.run_chain({builtin("HandleTaskTerminalStateTransitions")});
    CHECK(h.ctx.validated_state->name == "Scheduled");
    CHECK(f.services.reads.empty());
  }
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: "
    "cleanup restores run_count when a later rule fizzles it") {
  RetryFixture f(/*flow_run_count=*/4, /*tracker=*/2);
  auto mutator = retyping_rejector(kCancelled);
  f.h.run_chain({builtin("HandleTaskTerminalStateTransitions"), entry(mutator)});
  CHECK(name_of(f.h.ctx.response_status) == "REJECT");
  CHECK(name_of(f.h.ctx.validated_state) == "CANCELLED");
  CHECK(f.h.ctx.validated_state->name == "Retrying");  // renamed before the mutator copied it
  CHECK(f.h.run.run_count == 2);
  CHECK_FALSE(contains(f.h.ctx.finalization_signature, "HandleTaskTerminalStateTransitions"));
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions twice in one chain: each instance restores what it saw") {
  // Prefect makes one instance per entry, each with its own original_run_count: the inner one
  // saved 0 (the outer had reset the count), the outer one 2, so the count ends at 2.
  RetryFixture f(/*flow_run_count=*/4, /*tracker=*/2);
  const PolicyEntry rule = builtin("HandleTaskTerminalStateTransitions");
  auto mutator = retyping_rejector(kCancelled);
  ChainOutcome out = f.h.run_chain({rule, rule, entry(mutator)});
  CHECK_FALSE(out.escaped);
  CHECK(name_of(f.h.ctx.response_status) == "REJECT");
  CHECK(f.h.run.run_count == 2);
}

TEST_CASE(
    "HandleFlowTerminalStateTransitions: two runs' transitions in turn keep their own policies") {
  // The saved policy belongs to one transition: a transition of another run, in between or
  // nested, neither sees nor replaces it.
  const Json policy_a = Json{{"retries", 1}, {"pause_keys", {"a"}}, {"resuming", true}};
  const Json policy_b = Json{{"retries", 2}, {"pause_keys", {"b"}}, {"resuming", false}};
  Harness a(kFailed, kRunning, RunKind::kFlow);
  Harness b(kFailed, kRunning, RunKind::kFlow);
  REQUIRE(a.run.id != b.run.id);
  a.run.empirical_policy = policy_a;
  b.run.empirical_policy = policy_b;
  auto nested_b = make_transform("NestedB");
  auto mutator = retyping_rejector(kCompleted);
  nested_b->on_after = [&](Context&) {
    b.run_chain({builtin("HandleFlowTerminalStateTransitions"), entry(mutator)});
  };
  a.run_chain({builtin("HandleFlowTerminalStateTransitions"), entry(mutator)}, {entry(nested_b)});
  CHECK(a.run.empirical_policy == policy_a);
  CHECK(b.run.empirical_policy == policy_b);
}

TEST_CASE("HandleTaskTerminalStateTransitions: a later rename (same type) does not fizzle it") {
  Harness h(kFailed, kRunning, RunKind::kTask);
  h.run.run_count = 3;
  auto renamer = make_rule("Renamer");
  renamer->on_before = [](RuleHook& hook) { hook.rename_state("Elsewise"); };
  h.run_chain({builtin("HandleTaskTerminalStateTransitions"), entry(renamer)});
  CHECK(h.run.run_count == 0);
  CHECK(h.ctx.finalization_signature ==
        std::vector<std::string>{"Renamer", "HandleTaskTerminalStateTransitions"});
}

TEST_CASE("terminal family: registry metadata") {
  struct Expect {
    const char* name;
    RunScope scope;
    StateTypeSet from, to;
  };
  for (const Expect& e : {Expect{"PreventDuplicateTransitions", RunScope::kFlow,
                                 StateTypeSet::all(), StateTypeSet::all()},
                          Expect{"HandleFlowTerminalStateTransitions", RunScope::kFlow,
                                 StateTypeSet::terminal(), StateTypeSet::all()},
                          Expect{"PreventResultDataLoss", RunScope::kFlow, StateTypeSet::terminal(),
                                 StateTypeSet::terminal()},
                          Expect{"HandleTaskTerminalStateTransitions", RunScope::kTask,
                                 StateTypeSet::terminal(), StateTypeSet::all()}}) {
    CAPTURE(e.name);
    const BuiltinEntry* b = find_builtin_entry(e.name);
    REQUIRE(b != nullptr);
    CHECK(b->entry.kind() == EntryKind::kRule);
    CHECK(b->scope == e.scope);
    CHECK(b->entry.info().from_states == e.from);
    CHECK(b->entry.info().to_states == e.to);
  }
}

}  // namespace
}  // namespace runctl::testing
