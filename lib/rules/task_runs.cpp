// Task runs and their enclosing flow run, and background tasks: Prefect's
// PreventRunningTasksFromStoppedFlows, UpdateFlowRunTrackerOnTasks, CopyTaskParametersID and
// EnqueueScheduledTasks.
#include <optional>
#include <string>

#include "rules/families.hpp"

namespace runctl {
namespace {

// Prefect's context.flow_run(): for a task, its flow run as stored (none without a flow_run_id
// or when the row is gone); for a flow (a task rule placed in a flow policy file), the run itself
// with its current state.
std::optional<RunSnapshot> enclosing_flow_run(RuleHook& hook) {
  const Run& run = hook.run();
  if (hook.kind() == RunKind::kFlow) return RunSnapshot{run, hook.context().initial_state};
  if (!run.flow_run_id) return std::nullopt;
  return hook.services()->read_flow_run(*run.flow_run_id);
}

class PreventRunningTasksFromStoppedFlows final : public Rule {
 public:
  PreventRunningTasksFromStoppedFlows()
      : Rule({
            .name = "PreventRunningTasksFromStoppedFlows",
            .run_kind = RunScope::kTask,
            .from_states = StateTypeSet::all(),
            .to_states = {StateType::kRunning},
            .description =
                "aborts a RUNNING proposal unless the enclosing flow run is RUNNING; rejects it "
                "into Paused NotReady while the flow run is PAUSED",
        }) {}

  // No null-guard in Prefect: only the flow run's state decides.
  void before_transition(RuleHook& hook) const override {
    static const std::string kNotRunning =
        "The enclosing flow must be running to begin task execution.";
    const std::optional<RunSnapshot> flow_run = enclosing_flow_run(hook);
    if (!flow_run) return;
    const StatePtr& flow_state = flow_run->state;
    if (!flow_state) {
      hook.abort_transition(kNotRunning);
    } else if (flow_state->type == StateType::kPaused) {
      // A brand-new Paused state carrying the flow's pause deadline and kind, never its id.
      StateProposal p;
      p.type = StateType::kPaused;
      p.name = "NotReady";
      p.details.pause_timeout = flow_state->details->pause_timeout;
      p.details.pause_reschedule = flow_state->details->pause_reschedule;
      hook.reject_transition(hook.new_state(p),
                             "The flow is paused, new tasks can execute after resuming flow run: " +
                                 flow_run->run.id + ".");
    } else if (flow_state->type != StateType::kRunning) {
      hook.abort_transition(kNotRunning);
    }
  }
};

class UpdateFlowRunTrackerOnTasks final : public Rule {
 public:
  UpdateFlowRunTrackerOnTasks()
      : Rule({
            .name = "UpdateFlowRunTrackerOnTasks",
            .run_kind = RunScope::kTask,
            .from_states = StateTypeSet::all(),
            .to_states = {StateType::kRunning},
            .description =
                "records on the task run which attempt (run_count) of its flow run it ran in",
        }) {}

  void after_transition(RuleHook& hook) const override {
    Run& run = hook.run();
    if (!run.flow_run_id) return;
    const std::optional<RunSnapshot> flow_run = hook.services()->read_flow_run(*run.flow_run_id);
    if (!flow_run)
      throw HookError("Unable to read flow run associated with task run: " + run.id +
                      ", this flow run might have been deleted");
    run.flow_run_run_count = flow_run->run.run_count;
  }
};

class CopyTaskParametersID final : public Rule {
 public:
  CopyTaskParametersID()
      : Rule({
            .name = "CopyTaskParametersID",
            .run_kind = RunScope::kTask,
            .from_states = {StateType::kScheduled, StateType::kPending},
            .to_states = {StateType::kPending, StateType::kRunning},
            .description =
                "copies the background task's task_parameters_id onto the proposal when it has "
                "none",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    // Shared details: this edits the real proposal.
    auto& id = proposed->details->task_parameters_id;
    if (!id || id->empty()) id = initial->details->task_parameters_id;
  }
};

class EnqueueScheduledTasks final : public Rule {
 public:
  EnqueueScheduledTasks()
      : Rule({
            .name = "EnqueueScheduledTasks",
            .run_kind = RunScope::kTask,
            .from_states = StateTypeSet::all(),
            .to_states = {StateType::kScheduled},
            .description =
                "puts a deferred task run that was scheduled on its task key's queue (retry queue "
                "for AwaitingRetry)",
        }) {}

  void after_transition(RuleHook& hook) const override {
    const State* validated = hook.state_view();
    if (!validated || !validated->details->deferred.value_or(false)) return;
    hook.services()->enqueue_task_run(hook.run(),
                                      validated->name == "AwaitingRetry" ? "retry" : "scheduled");
  }
};

}  // namespace

void add_task_run_rules(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_rule<PreventRunningTasksFromStoppedFlows>());
  out.push_back(builtin_rule<UpdateFlowRunTrackerOnTasks>());
  out.push_back(builtin_rule<CopyTaskParametersID>());
  out.push_back(builtin_rule<EnqueueScheduledTasks>());
}

}  // namespace runctl
