// The task-run rules (lib/rules/task_runs.cpp) at engine level, with a fake store serving the
// enclosing flow run. The cases follow TestPreventRunningTasksFromStoppedFlows,
// TestUpdatingFlowRunTrackerOnTasks, TestPermitRerunningFailedTaskRuns and
// TestCopyTaskParametersID in Prefect's tests/server/orchestration/test_core_policy.py.
#include <doctest/doctest.h>

#include "rule_services_fixture.hpp"

namespace runctl::testing {
namespace {

const char* const kFlowNotRunning = "The enclosing flow must be running to begin task execution.";

std::vector<StateType> final_types() {
  return {StateType::kCompleted, StateType::kFailed, StateType::kCancelled, StateType::kCrashed};
}

// Gives the harness's task run an enclosing flow run with `run_count` and, unless nullopt, a
// current state of type `type`. Returns the flow run's id.
std::string add_flow_run(RuleHarness& h, std::optional<StateType> type, int run_count = 0,
                         StateDetails details = {}) {
  RunSnapshot fr;
  fr.run.kind = RunKind::kFlow;
  fr.run.id = h.uuids.next();
  fr.run.run_count = run_count;
  if (type) {
    StateProposal p;
    p.type = *type;
    p.details = details;
    fr.state = make_state(p, h.uuids.next(), kNow - kMinute);
  }
  h.services->flow_runs[fr.run.id] = fr;
  h.run.flow_run_id = fr.run.id;
  return fr.run.id;
}

TEST_CASE("task-run rules are registered with Prefect's FROM/TO states and scope") {
  CHECK(builtin_info("PreventRunningTasksFromStoppedFlows").from_states == StateTypeSet::all());
  CHECK(builtin_info("PreventRunningTasksFromStoppedFlows").to_states == StateTypeSet{kRunning});
  CHECK(builtin_info("UpdateFlowRunTrackerOnTasks").from_states == StateTypeSet::all());
  CHECK(builtin_info("UpdateFlowRunTrackerOnTasks").to_states == StateTypeSet{kRunning});
  CHECK(builtin_info("CopyTaskParametersID").from_states == (StateTypeSet{kScheduled, kPending}));
  CHECK(builtin_info("CopyTaskParametersID").to_states == (StateTypeSet{kPending, kRunning}));
  CHECK(builtin_info("EnqueueScheduledTasks").from_states == StateTypeSet::all());
  CHECK(builtin_info("EnqueueScheduledTasks").to_states == StateTypeSet{kScheduled});
  for (const char* name : {"PreventRunningTasksFromStoppedFlows", "UpdateFlowRunTrackerOnTasks",
                           "CopyTaskParametersID", "EnqueueScheduledTasks"})
    CHECK(find_builtin_entry(name)->scope == RunScope::kTask);
}

// ---------------------------------------------------------------------------------------------
// PreventRunningTasksFromStoppedFlows

TEST_CASE("PreventRunningTasksFromStoppedFlows allows task runs of a running flow to run") {
  RuleHarness h(kPending, kRunning);
  const std::string flow_id = add_flow_run(h, kRunning);
  h.run_rules({"PreventRunningTasksFromStoppedFlows"});
  CHECK(h.status() == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
  CHECK(h.services->flow_run_reads == std::vector<std::string>{flow_id});
}

TEST_CASE("PreventRunningTasksFromStoppedFlows prevents tasks from running") {
  for (StateType flow_type : all_types()) {
    if (flow_type == kRunning) continue;
    CAPTURE(name_of(flow_type));
    RuleHarness h(kPending, kRunning);
    const std::string flow_id = add_flow_run(h, flow_type);
    h.run_rules({"PreventRunningTasksFromStoppedFlows"});
    if (flow_type == kPaused) {
      CHECK(h.status() == "REJECT");
      CHECK(name_of(h.ctx.validated_state) == "PAUSED");
      CHECK(h.ctx.validated_state->name == "NotReady");
      CHECK(h.reason() ==
            "The flow is paused, new tasks can execute after resuming flow run: " + flow_id + ".");
    } else {
      CHECK(h.status() == "ABORT");
      CHECK(h.reason() == kFlowNotRunning);
      CHECK(name_of(h.ctx.validated_state) == "PENDING");
      CHECK(h.ctx.validated_state->id == h.ctx.initial_state->id);
    }
    CHECK(h.ctx.finalization_signature.empty());  // TO = {RUNNING}: invalid on exit
  }
}

TEST_CASE("PreventRunningTasksFromStoppedFlows does not reuse the paused flow state's id") {
  RuleHarness h(kPending, kRunning);
  StateDetails d;
  d.pause_timeout = kNow + 5 * kMinute;
  d.pause_reschedule = true;
  d.pause_key = "flow-pause";
  const std::string flow_id = add_flow_run(h, kPaused, 0, d);
  h.run_rules({"PreventRunningTasksFromStoppedFlows"});
  CHECK(h.status() == "REJECT");
  const StatePtr& v = h.ctx.validated_state;
  REQUIRE(v != nullptr);
  CHECK(name_of(v) == "PAUSED");
  CHECK(v->id != h.services->flow_runs.at(flow_id).state->id);
  CHECK(v->timestamp == kNow);
  CHECK(v->details->pause_timeout == kNow + 5 * kMinute);
  CHECK(v->details->pause_reschedule == true);
  CHECK_FALSE(v->details->pause_key);  // a new pause: the flow's key is not carried over
  CHECK_FALSE(v->message);
}

TEST_CASE("PreventRunningTasksFromStoppedFlows: a paused flow without a deadline") {
  RuleHarness h(kScheduled, kRunning);
  add_flow_run(h, kPaused);
  h.run_rules({"PreventRunningTasksFromStoppedFlows"});
  CHECK(h.status() == "REJECT");
  CHECK_FALSE(h.ctx.validated_state->details->pause_timeout);
  CHECK(h.ctx.validated_state->details->pause_reschedule == false);
}

TEST_CASE("PreventRunningTasksFromStoppedFlows: a flow run with no state aborts") {
  RuleHarness h(kPending, kRunning);
  add_flow_run(h, std::nullopt);
  h.run_rules({"PreventRunningTasksFromStoppedFlows"});
  CHECK(h.status() == "ABORT");
  CHECK(h.reason() == kFlowNotRunning);
}

TEST_CASE("PreventRunningTasksFromStoppedFlows: no enclosing flow run, nothing to check") {
  RuleHarness h(kPending, kRunning);
  h.run_rules({"PreventRunningTasksFromStoppedFlows"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.services->flow_run_reads.empty());
  // A flow_run_id whose row is gone reads as no flow run.
  RuleHarness gone(kPending, kRunning);
  gone.run.flow_run_id = "00000000-0000-4000-8000-000000000000";
  gone.run_rules({"PreventRunningTasksFromStoppedFlows"});
  CHECK(gone.status() == "ACCEPT");
  CHECK(gone.services->flow_run_reads.size() == 1);
}

TEST_CASE(
    "PreventRunningTasksFromStoppedFlows has no null-guard: a task with no state is checked") {
  RuleHarness h(std::nullopt, kRunning);
  add_flow_run(h, kCompleted);
  h.run_rules({"PreventRunningTasksFromStoppedFlows"});
  CHECK(h.status() == "ABORT");
  CHECK(h.ctx.validated_state == nullptr);
}

TEST_CASE("PreventRunningTasksFromStoppedFlows on a flow run checks the flow run's own state") {
  RuleHarness pending(kPending, kRunning, RunKind::kFlow);
  pending.run_rules({"PreventRunningTasksFromStoppedFlows"});
  CHECK(pending.status() == "ABORT");
  RuleHarness running(kRunning, kRunning, RunKind::kFlow);
  running.run_rules({"PreventRunningTasksFromStoppedFlows"});
  CHECK(running.status() == "ACCEPT");
  CHECK(running.services->flow_run_reads.empty());
}

// ---------------------------------------------------------------------------------------------
// UpdateFlowRunTrackerOnTasks

TEST_CASE("UpdateFlowRunTrackerOnTasks: task runs track their flow run's run_count") {
  for (int flow_run_count : {5, 42}) {
    for (MaybeType initial : all_maybe_types()) {
      CAPTURE(flow_run_count);
      CAPTURE(name_of(initial));
      RuleHarness h(initial, kRunning);
      add_flow_run(h, kRunning, flow_run_count);
      h.run.flow_run_run_count = 1;
      h.run_rules({"UpdateFlowRunTrackerOnTasks"});
      CHECK(h.status() == "ACCEPT");
      CHECK(h.run.flow_run_run_count == flow_run_count);
      CHECK(h.ctx.finalization_signature ==
            std::vector<std::string>{"UpdateFlowRunTrackerOnTasks"});
    }
  }
}

TEST_CASE("UpdateFlowRunTrackerOnTasks raises an informative error on a missing flow run") {
  RuleHarness h(kPending, kRunning);
  h.run.flow_run_id = "11111111-1111-4111-8111-111111111111";
  h.run.flow_run_run_count = 1;
  ChainOutcome out = h.run_rules({"UpdateFlowRunTrackerOnTasks"});
  REQUIRE(out.escaped);
  CHECK(message_of(out.escaped) == "Unable to read flow run associated with task run: " + h.run.id +
                                       ", this flow run might have been deleted");
  CHECK(h.run.flow_run_run_count == 1);
}

TEST_CASE("UpdateFlowRunTrackerOnTasks: a task without a flow run is left alone") {
  RuleHarness h(kPending, kRunning);
  h.run.flow_run_run_count = 3;
  ChainOutcome out = h.run_rules({"UpdateFlowRunTrackerOnTasks"});
  CHECK_FALSE(out.escaped);
  CHECK(h.run.flow_run_run_count == 3);
  CHECK(h.services->flow_run_reads.empty());
}

TEST_CASE("UpdateFlowRunTrackerOnTasks: fizzled by a later rule, the tracker is not updated") {
  RuleHarness h(kPending, kRunning);
  add_flow_run(h, kRunning, 7);
  h.run.flow_run_run_count = 1;
  auto mutator = make_rule("Mutator");
  mutator->on_before = [](RuleHook& hook) {
    StateProposal p;
    p.type = StateType::kCompleted;
    hook.reject_transition(hook.new_state(p), "no");
  };
  h.run_rules({"UpdateFlowRunTrackerOnTasks"}, {entry(mutator)});
  CHECK(h.run.flow_run_run_count == 1);
}

// Rules [HandleTaskTerminalStateTransitions, UpdateFlowRunTrackerOnTasks]: FAILED -> RUNNING.
struct Rerun {
  RuleHarness h{StateType::kFailed, kRunning};
  Rerun(int flow_run_count, int tracker, int run_count, int flow_retries) {
    add_flow_run(h, kRunning, flow_run_count);
    h.services->flow_runs.begin()->second.run.empirical_policy = Json{{"retries", flow_retries}};
    h.run.flow_run_run_count = tracker;
    h.run.run_count = run_count;
  }
};

TEST_CASE(
    "HandleTaskTerminalStateTransitions: "
    "rerunning a failed task bypasses terminal protection when the flow is retrying") {
  Rerun r(4, 2, 2, 10);
  r.h.run_rules({"HandleTaskTerminalStateTransitions", "UpdateFlowRunTrackerOnTasks"});
  CHECK(r.h.status() == "ACCEPT");
  CHECK(r.h.run.run_count == 0);
  CHECK(r.h.ctx.proposed_state->name == "Retrying");
  CHECK(r.h.run.flow_run_run_count == 4);
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: "
    "a failed task can run again even if it exceeds the flow's run count") {
  Rerun r(3, 3, 2, 10);
  r.h.ctx.initial_state->data = std::make_shared<Json>("test");
  r.h.run_rules({"HandleTaskTerminalStateTransitions", "UpdateFlowRunTrackerOnTasks"});
  CHECK(r.h.status() == "ACCEPT");
  CHECK(r.h.run.run_count == 0);
  CHECK(name_of(r.h.ctx.proposed_state) == "RUNNING");
  CHECK(r.h.ctx.proposed_state->name == "Running");
  CHECK(r.h.run.flow_run_run_count == 3);
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: "
    "terminal protection is bypassed when automatic retries are exhausted") {
  Rerun r(4, 2, 2, 1);
  r.h.run_rules({"HandleTaskTerminalStateTransitions", "UpdateFlowRunTrackerOnTasks"});
  CHECK(r.h.status() == "ACCEPT");
  CHECK(r.h.run.run_count == 0);
  CHECK(r.h.ctx.proposed_state->name == "Retrying");
  CHECK(r.h.run.flow_run_run_count == 4);
}

TEST_CASE(
    "HandleTaskTerminalStateTransitions: "
    "rerun bookkeeping is cleaned up after an invalid transition") {
  Rerun r(4, 2, 2, 10);
  auto fizzler = make_rule("FizzlingRule");
  fizzler->on_before = [](RuleHook& hook) {
    StatePtr mutated =
        hook.context().proposed_state;  // the hook's copy: re-typing it changes only the copy
    mutated->type = kCompleted;
    hook.reject_transition(mutated, "for testing, of course");
  };
  r.h.run_rules({"HandleTaskTerminalStateTransitions", "UpdateFlowRunTrackerOnTasks"},
                {entry(fizzler)});
  CHECK(r.h.status() == "REJECT");
  CHECK(r.h.run.run_count == 2);  // HandleTaskTerminalStateTransitions' cleanup
  CHECK(r.h.ctx.proposed_state->name == "Retrying");
  CHECK(r.h.run.flow_run_run_count == 2);  // the tracker fizzled
}

// ---------------------------------------------------------------------------------------------
// CopyTaskParametersID

TEST_CASE("CopyTaskParametersID copies the task parameters id forward") {
  for (StateType initial : {kScheduled, kPending}) {
    for (StateType proposed : {kPending, kRunning}) {
      CAPTURE(name_of(initial));
      CAPTURE(name_of(proposed));
      RuleHarness h(initial, proposed);
      const std::string id = h.uuids.next();
      h.ctx.initial_state->details->task_parameters_id = id;
      h.run_rules({"CopyTaskParametersID"});
      CHECK(name_of(h.ctx.validated_state) == name_of(proposed));
      CHECK(h.ctx.validated_state->details->task_parameters_id == id);
    }
  }
}

TEST_CASE("CopyTaskParametersID does not fire for other transitions") {
  for (StateType initial : {kScheduled, kPending}) {
    for (StateType proposed : final_types()) {
      CAPTURE(name_of(proposed));
      RuleHarness h(initial, proposed);
      h.ctx.initial_state->details->task_parameters_id = h.uuids.next();
      h.run_rules({"CopyTaskParametersID"});
      CHECK(h.ctx.rule_signature.empty());
      CHECK_FALSE(h.ctx.validated_state->details->task_parameters_id);
    }
  }
}

TEST_CASE("CopyTaskParametersID keeps an id the proposal already has") {
  RuleHarness h(kScheduled, kPending);
  h.ctx.initial_state->details->task_parameters_id = "from-initial";
  h.ctx.proposed_state->details->task_parameters_id = "from-proposal";
  h.run_rules({"CopyTaskParametersID"});
  CHECK(h.ctx.validated_state->details->task_parameters_id == "from-proposal");
}

// ---------------------------------------------------------------------------------------------
// EnqueueScheduledTasks

TEST_CASE("EnqueueScheduledTasks puts a scheduled deferred task run on its scheduled queue") {
  RuleHarness h(std::nullopt, kScheduled);
  h.run.task_key = "my-task";
  h.ctx.proposed_state->details->deferred = true;
  h.run_rules({"EnqueueScheduledTasks"});
  CHECK(h.status() == "ACCEPT");
  REQUIRE(h.services->enqueued.size() == 1);
  CHECK(h.services->enqueued[0].queue == "scheduled");
  CHECK(h.services->enqueued[0].run.id == h.run.id);
  CHECK(h.services->enqueued[0].run.task_key == "my-task");
}

TEST_CASE("EnqueueScheduledTasks: an AwaitingRetry state goes to the retry queue") {
  RuleHarness h(kRunning, std::nullopt);
  h.ctx.proposed_state = h.state(kScheduled, kNow, "AwaitingRetry");
  h.ctx.proposed_state->details->deferred = true;
  h.run_rules({"EnqueueScheduledTasks"});
  REQUIRE(h.services->enqueued.size() == 1);
  CHECK(h.services->enqueued[0].queue == "retry");
}

TEST_CASE("EnqueueScheduledTasks: a task run that is not deferred is not queued") {
  for (std::optional<bool> deferred : {std::optional<bool>(false), std::optional<bool>()}) {
    RuleHarness h(kPending, kScheduled);
    h.ctx.proposed_state->details->deferred = deferred;
    h.run_rules({"EnqueueScheduledTasks"});
    CHECK(h.status() == "ACCEPT");
    CHECK(h.services->enqueued.empty());
  }
}

TEST_CASE("EnqueueScheduledTasks is compiled for an intended SCHEDULED target only") {
  // A failed deferred task retried by RetryFailedTasks becomes AwaitingRetry, but the intended
  // transition was RUNNING -> FAILED, so nothing is queued.
  RuleHarness h(kRunning, StateType::kFailed);
  h.run.empirical_policy = Json{{"retries", 1}, {"retry_delay", nullptr}};
  h.run.run_count = 1;
  h.ctx.proposed_state->details->deferred = true;
  h.run_rules({"RetryFailedTasks", "EnqueueScheduledTasks"});
  CHECK(h.status() == "REJECT");
  CHECK(h.ctx.validated_state->name == "AwaitingRetry");
  CHECK(h.services->enqueued.empty());
}

TEST_CASE("EnqueueScheduledTasks: nothing is queued when a later rule changes the target") {
  RuleHarness h(kPending, kScheduled);
  h.ctx.proposed_state->details->deferred = true;
  auto aborter = make_rule("Aborter");
  aborter->on_before = [](RuleHook& hook) { hook.abort_transition("stop"); };
  h.run_rules({"EnqueueScheduledTasks"}, {entry(aborter)});
  CHECK(h.status() == "ABORT");
  CHECK(h.services->enqueued.empty());
}

}  // namespace
}  // namespace runctl::testing
