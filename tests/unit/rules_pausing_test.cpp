// lib/rules/pausing.cpp: HandlePausingFlows and HandleResumingPausedFlows through the chain
// runner, after Prefect's TestPausingFlows and TestResumingFlows
// (tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include "engine_fixture.hpp"
#include "rules/registry.hpp"
#include "util/uuid.hpp"

namespace runctl::testing {
namespace {

const char* const kDeployment = "5a1f3c1e-0000-4000-8000-000000000001";
constexpr Timestamp kFiveMinutes = 5 * 60 * kMicrosPerSecond;

PolicyEntry builtin(std::string_view name) {
  const BuiltinEntry* e = find_builtin_entry(name);
  REQUIRE(e != nullptr);
  return e->entry;
}

// A flow run as runctl creates it: the FlowRunPolicy defaults.
Json default_flow_policy() {
  return Json{{"max_retries", 0},       {"retry_delay_seconds", 0},    {"retries", nullptr},
              {"retry_delay", nullptr}, {"pause_keys", Json::array()}, {"resuming", false},
              {"retry_type", nullptr}};
}

struct PauseHarness : Harness {
  PauseHarness(MaybeType initial = kRunning, MaybeType proposed = kPaused)
      : Harness(initial, proposed, RunKind::kFlow) {
    run.empirical_policy = default_flow_policy();
  }
  const Json& pause_keys() const { return run.empirical_policy["pause_keys"]; }
  bool resuming() const { return run.empirical_policy.value("resuming", false); }
};

// ---------------------------------------------------------------------------------------------
// HandlePausingFlows

TEST_CASE("HandlePausingFlows: a suspension (pause_reschedule) needs a deployment") {
  PauseHarness h;
  h.ctx.proposed_state->details->pause_reschedule = true;
  h.run_chain({builtin("HandlePausingFlows")});
  CHECK(name_of(h.ctx.response_status) == "ABORT");
  CHECK(h.ctx.response_details ==
        ResponseDetails::abort("Cannot pause flows without a deployment."));
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
  CHECK(h.pause_keys() == Json::array());  // aborted: invalid on exit, the key is not recorded
  CHECK(h.ctx.finalization_signature.empty());
}

TEST_CASE("HandlePausingFlows: subflows cannot be suspended, even with a deployment") {
  PauseHarness h;
  h.ctx.proposed_state->details->pause_reschedule = true;
  h.run.parent_task_run_id = "3c4d5e6f-0000-4000-8000-0000000000a1";
  h.run.deployment_id = kDeployment;
  h.run_chain({builtin("HandlePausingFlows")});
  CHECK(name_of(h.ctx.response_status) == "ABORT");
  CHECK(h.ctx.response_details == ResponseDetails::abort("Cannot pause subflows."));
}

TEST_CASE("HandlePausingFlows: a proposal named Suspended uses the verb suspend") {
  PauseHarness h;
  h.ctx.proposed_state->name = "Suspended";
  h.ctx.proposed_state->details->pause_reschedule = true;
  h.run_chain({builtin("HandlePausingFlows")});
  CHECK(h.ctx.response_details ==
        ResponseDetails::abort("Cannot suspend flows without a deployment."));

  PauseHarness sub;
  sub.ctx.proposed_state->name = "Suspended";
  sub.ctx.proposed_state->details->pause_reschedule = true;
  sub.run.parent_task_run_id = "3c4d5e6f-0000-4000-8000-0000000000a1";
  sub.run_chain({builtin("HandlePausingFlows")});
  CHECK(sub.ctx.response_details == ResponseDetails::abort("Cannot suspend subflows."));
}

TEST_CASE(
    "HandlePausingFlows: a blocking pause (no reschedule) of a subflow without deployment is "
    "fine") {
  PauseHarness h;
  h.run.parent_task_run_id = "3c4d5e6f-0000-4000-8000-0000000000a1";
  h.run_chain({builtin("HandlePausingFlows")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
}

TEST_CASE("HandlePausingFlows: a suspension with a deployment is accepted") {
  PauseHarness h;
  h.ctx.proposed_state->details->pause_reschedule = true;
  h.run.deployment_id = kDeployment;
  h.run_chain({builtin("HandlePausingFlows")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "PAUSED");
  CHECK(h.pause_keys().size() == 1);
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"HandlePausingFlows"});
}

TEST_CASE("HandlePausingFlows: the pause key is recorded in pause_keys") {
  PauseHarness h;
  h.ctx.proposed_state->details->pause_key = "hello";
  h.ctx.proposed_state->details->pause_timeout = kNow + 1000 * kMicrosPerSecond;
  REQUIRE(h.pause_keys().empty());
  h.run_chain({builtin("HandlePausingFlows")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(h.pause_keys() == Json{"hello"});
}

TEST_CASE("HandlePausingFlows: without a pause key a random UUID is recorded, new each time") {
  PauseHarness h;
  h.run_chain({builtin("HandlePausingFlows")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  REQUIRE(h.pause_keys().size() == 1);
  const std::string first = h.pause_keys()[0].get<std::string>();
  CHECK(normalize_uuid(first) == first);
  CHECK(first[14] == '4');  // version 4

  PauseHarness again;
  // Both harnesses seed their UUIDs alike; one extra draw stands for the request in between.
  again.uuids.next();
  again.run.empirical_policy = h.run.empirical_policy;
  again.run_chain({builtin("HandlePausingFlows")});
  CHECK(name_of(again.ctx.response_status) == "ACCEPT");
  REQUIRE(again.pause_keys().size() == 2);
  CHECK(again.pause_keys()[0] == first);
  CHECK(again.pause_keys()[1] != first);
}

TEST_CASE("HandlePausingFlows: the same pause key cannot fire twice") {
  PauseHarness first;
  first.ctx.proposed_state->details->pause_key = "hello";
  first.run_chain({builtin("HandlePausingFlows")});
  REQUIRE(name_of(first.ctx.response_status) == "ACCEPT");

  for (const char* name : {"Paused", "Suspended"}) {
    CAPTURE(name);
    PauseHarness second;
    second.run.empirical_policy = first.run.empirical_policy;
    second.ctx.proposed_state->name = name;
    second.ctx.proposed_state->details->pause_key = "hello";
    second.run_chain({builtin("HandlePausingFlows")});
    CHECK(name_of(second.ctx.response_status) == "REJECT");
    CHECK(second.ctx.response_details ==
          ResponseDetails::reject(std::string("This ") +
                                  (std::string(name) == "Suspended" ? "suspend" : "pause") +
                                  " has already fired."));
    CHECK(name_of(second.ctx.validated_state) == "RUNNING");
    CHECK(second.pause_keys() == Json{"hello"});
  }
}

TEST_CASE("HandlePausingFlows: only RUNNING flow runs can pause") {
  for (MaybeType from : all_maybe_types()) {
    CAPTURE(name_of(from));
    PauseHarness h(from, kPaused);
    h.run.deployment_id = kDeployment;
    h.run_chain({builtin("HandlePausingFlows")});
    if (!from) {
      CHECK(name_of(h.ctx.response_status) == "ABORT");
      CHECK(h.ctx.response_details == ResponseDetails::abort("Cannot pause flows with no state."));
      CHECK_FALSE(h.ctx.validated_state);
    } else if (*from == kRunning) {
      CHECK(name_of(h.ctx.response_status) == "ACCEPT");
      CHECK(name_of(h.ctx.validated_state) == "PAUSED");
    } else {
      CHECK(name_of(h.ctx.response_status) == "REJECT");
      CHECK(h.ctx.response_details ==
            ResponseDetails::reject("Cannot pause flows that are not currently running."));
      CHECK(name_of(h.ctx.validated_state) == name_of(from));
      CHECK(h.pause_keys() == Json::array());
    }
  }
}

TEST_CASE("HandlePausingFlows: the no-state abort uses the verb too") {
  PauseHarness h(std::nullopt, kPaused);
  h.ctx.proposed_state->name = "Suspended";
  h.run_chain({builtin("HandlePausingFlows")});
  CHECK(h.ctx.response_details == ResponseDetails::abort("Cannot suspend flows with no state."));
}

TEST_CASE("HandlePausingFlows: pause_keys missing from the policy count as none") {
  PauseHarness h;
  h.run.empirical_policy = Json::object();
  h.ctx.proposed_state->details->pause_key = "k";
  h.run_chain({builtin("HandlePausingFlows")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(h.run.empirical_policy["pause_keys"] == Json{"k"});
}

TEST_CASE(
    "HandlePausingFlows: a stored null pause_keys passes the check but breaks the after hook") {
  // Prefect: `pause_keys or set()` before, `pause_keys.add(key)` after.
  PauseHarness h;
  h.run.empirical_policy["pause_keys"] = nullptr;
  ChainOutcome out = h.run_chain({builtin("HandlePausingFlows")});
  REQUIRE(out.escaped);
  CHECK(message_of(out.escaped) == "'NoneType' object has no attribute 'add'");
}

TEST_CASE("HandlePausingFlows: fizzled by a later rule, the key is not recorded") {
  PauseHarness h;
  h.ctx.proposed_state->details->pause_key = "hello";
  auto mutator = make_rule("Mutator");
  mutator->on_before = [](RuleHook& hook) {
    auto copy = hook.context().proposed_state;
    copy->type = kFailed;
    hook.reject_transition(copy, "for testing, of course");
  };
  h.run_chain({builtin("HandlePausingFlows"), entry(mutator)});
  CHECK(name_of(h.ctx.validated_state) == "FAILED");
  CHECK(h.pause_keys() == Json::array());
}

TEST_CASE("HandlePausingFlows: the after hook records the key of the proposal it checked") {
  // A later rule swaps in another PAUSED state (same type: no fizzle); Prefect adds self.key,
  // the key seen by before_transition, not the validated state's.
  PauseHarness h;
  h.ctx.proposed_state->details->pause_key = "first";
  auto swapper = make_rule("Swapper");
  swapper->on_before = [&h](RuleHook& hook) {
    auto other = h.state(kPaused);
    other->details->pause_key = "second";
    hook.reject_transition(other, "another pause");
  };
  h.run_chain({builtin("HandlePausingFlows"), entry(swapper)});
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(h.ctx.validated_state->details->pause_key == "second");
  CHECK(h.pause_keys() == Json{"first"});
}

// ---------------------------------------------------------------------------------------------
// HandleResumingPausedFlows

TEST_CASE("HandleResumingPausedFlows: a suspended run cannot resume without a deployment") {
  PauseHarness h(kPaused, kRunning);
  h.ctx.initial_state->details->pause_timeout = kNow + kFiveMinutes;
  h.ctx.initial_state->details->pause_reschedule = true;
  h.run_chain({builtin("HandleResumingPausedFlows")});
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(h.ctx.response_details ==
        ResponseDetails::reject("Cannot reschedule a running flow run without a deployment."));
  CHECK(name_of(h.ctx.validated_state) == "PAUSED");
  CHECK(h.resuming());  // Quirk: TO = ALL, the after hook runs after the rule's own rejection
}

TEST_CASE(
    "HandleResumingPausedFlows: the display name is the lower-cased proposal name, else its type") {
  struct Case {
    const char* name;
    const char* display;
  };
  for (const Case& c :
       {Case{"Resuming", "resuming"}, Case{"Custom Name", "custom name"}, Case{"", "scheduled"}}) {
    CAPTURE(c.name);
    PauseHarness h(kPaused, kScheduled);
    h.ctx.proposed_state->name = c.name;
    h.ctx.initial_state->details->pause_reschedule = true;
    h.run_chain({builtin("HandleResumingPausedFlows")});
    CHECK(h.ctx.response_details ==
          ResponseDetails::reject(std::string("Cannot reschedule a ") + c.display +
                                  " flow run without a deployment."));
  }
}

TEST_CASE("HandleResumingPausedFlows: a blocking pause can be left without a deployment") {
  PauseHarness h(kPaused, kRunning);
  h.ctx.initial_state->details->pause_timeout = kNow + kFiveMinutes;
  h.run_chain({builtin("HandleResumingPausedFlows")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
}

TEST_CASE(
    "HandleResumingPausedFlows: "
    "PAUSED may only go to RUNNING, SCHEDULED or a terminal state") {
  for (StateType to : all_types()) {
    CAPTURE(name_of(to));
    PauseHarness h(kPaused, to);
    h.run.deployment_id = kDeployment;
    h.run_chain({builtin("HandleResumingPausedFlows")});
    const bool permitted = to == kRunning || to == kCompleted || to == kScheduled ||
                           to == kFailed || to == kCrashed || to == kCancelled;
    if (permitted) {
      CHECK(name_of(h.ctx.response_status) == "ACCEPT");
      CHECK(name_of(h.ctx.validated_state) == name_of(to));
    } else {
      CHECK(name_of(h.ctx.response_status) == "REJECT");
      // Prefect formats the StateType objects ("StateType.X", Python >= 3.11).
      CHECK(h.ctx.response_details ==
            ResponseDetails::reject("This run cannot transition to the StateType." + name_of(to) +
                                    " state from the StateType.PAUSED state."));
      CHECK(name_of(h.ctx.validated_state) == "PAUSED");
    }
    CHECK(h.resuming());  // set in every case, the rejections included (Quirk)
  }
}

TEST_CASE("HandleResumingPausedFlows: a timed-out pause fails the run") {
  PauseHarness h(kPaused, kRunning);
  h.run.deployment_id = kDeployment;
  h.ctx.initial_state->details->pause_timeout = kNow - kFiveMinutes;
  h.run_chain({builtin("HandleResumingPausedFlows")});
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(h.ctx.response_details ==
        ResponseDetails::reject("The flow run pause has timed out and can no longer resume."));
  REQUIRE(h.ctx.validated_state);
  CHECK(name_of(h.ctx.validated_state) == "FAILED");
  CHECK(h.ctx.validated_state->name == "Failed");
  CHECK(h.ctx.validated_state->message == "The flow was running and never resumed.");
  CHECK(h.ctx.validated_state->timestamp == kNow);
  CHECK(h.ctx.validated_state->id != h.ctx.initial_state->id);
  CHECK(h.resuming());  // FAILED is in TO = ALL: the after hook runs (Quirk)
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"HandleResumingPausedFlows"});
}

TEST_CASE("HandleResumingPausedFlows: the timeout texts follow the proposal's name") {
  struct Case {
    StateType to;
    const char* name;
    const char* verb;
    const char* display;
  };
  for (const Case& c : {Case{kCompleted, "Suspended", "suspend", "suspended"},
                        Case{kScheduled, "Resuming", "pause", "resuming"}}) {
    CAPTURE(c.name);
    PauseHarness h(kPaused, c.to);
    h.ctx.proposed_state->name = c.name;
    h.ctx.initial_state->details->pause_timeout = kNow - 1;
    h.run_chain({builtin("HandleResumingPausedFlows")});
    CHECK(h.ctx.response_details ==
          ResponseDetails::reject(std::string("The flow run ") + c.verb +
                                  " has timed out and can no longer resume."));
    REQUIRE(h.ctx.validated_state);
    CHECK(name_of(h.ctx.validated_state) == "FAILED");
    CHECK(h.ctx.validated_state->message ==
          std::string("The flow was ") + c.display + " and never resumed.");
  }
}

TEST_CASE("HandleResumingPausedFlows: a pause timing out exactly now has not timed out") {
  PauseHarness h(kPaused, kRunning);
  h.ctx.initial_state->details->pause_timeout = kNow;
  h.run_chain({builtin("HandleResumingPausedFlows")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
}

TEST_CASE("HandleResumingPausedFlows: leaving PAUSED marks the run as resuming") {
  PauseHarness h(kPaused, kRunning);
  h.run.deployment_id = kDeployment;
  h.ctx.initial_state->details->pause_timeout = kNow + kFiveMinutes;
  REQUIRE_FALSE(h.resuming());
  h.run_chain({builtin("HandleResumingPausedFlows")});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(h.resuming());
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"HandleResumingPausedFlows"});
}

TEST_CASE("HandleResumingPausedFlows: fizzled by a later rule, the run is not marked") {
  PauseHarness h(kPaused, kRunning);
  auto mutator = make_rule("Mutator");
  mutator->on_before = [](RuleHook& hook) {
    auto copy = hook.context().proposed_state;
    copy->type = kCompleted;
    hook.reject_transition(copy, "for testing, of course");
  };
  h.run_chain({builtin("HandleResumingPausedFlows"), entry(mutator)});
  CHECK(name_of(h.ctx.validated_state) == "COMPLETED");
  CHECK_FALSE(h.resuming());
}

TEST_CASE("HandleResumingPausedFlows: not compiled from other initial states") {
  StateTypeSet::all().without(MaybeType(kPaused)).for_each([](MaybeType from) {
    CAPTURE(name_of(from));
    PauseHarness h(from, kPending);
    h.run_chain({builtin("HandleResumingPausedFlows")});
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK_FALSE(h.resuming());
  });
}

TEST_CASE("pausing family: registry metadata") {
  const BuiltinEntry* pausing = find_builtin_entry("HandlePausingFlows");
  REQUIRE(pausing != nullptr);
  CHECK(pausing->scope == RunScope::kFlow);
  CHECK(pausing->entry.info().from_states == StateTypeSet::all());
  CHECK(pausing->entry.info().to_states == StateTypeSet{kPaused});
  const BuiltinEntry* resuming = find_builtin_entry("HandleResumingPausedFlows");
  REQUIRE(resuming != nullptr);
  CHECK(resuming->scope == RunScope::kFlow);
  CHECK(resuming->entry.info().from_states == StateTypeSet{kPaused});
  CHECK(resuming->entry.info().to_states == StateTypeSet::all());
}

}  // namespace
}  // namespace runctl::testing
