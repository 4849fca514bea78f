// Protection of terminal states and of idempotent transitions: Prefect's
// PreventDuplicateTransitions, HandleFlowTerminalStateTransitions, PreventResultDataLoss and
// HandleTaskTerminalStateTransitions.
#include <string>

#include "rules/families.hpp"
#include "rules/rule_support.hpp"

namespace runctl {
namespace {

// Python's AttributeError text when cleanup reads an attribute before_transition never set
// (it returned at its null-guard).
HookError missing_attribute(std::string_view rule, std::string_view attribute) {
  return HookError("'" + std::string(rule) + "' object has no attribute '" +
                   std::string(attribute) + "'");
}

bool is_abort_target(StateType t) {
  return t == StateType::kCancelling || t == StateType::kPaused || t == StateType::kCrashed;
}

// Prefect's "initial data truthy and looks like persisted result metadata" (flow predicate).
bool carries_persisted_result(const State* state) {
  return truthy(state->data) && has_persisted_result(state->data);
}

constexpr const char* kDataLossReason =
    "Cannot overwrite a COMPLETED state that carries persisted result data with one that does "
    "not.";

// COMPLETED -> COMPLETED that would replace persisted result data with none (or non-metadata).
bool loses_result_data(const State* initial, const State* proposed) {
  return initial->type == StateType::kCompleted && proposed->type == StateType::kCompleted &&
         carries_persisted_result(initial) && !has_persisted_result(proposed->data);
}

class PreventDuplicateTransitions final : public Rule {
 public:
  PreventDuplicateTransitions()
      : Rule({
            .name = "PreventDuplicateTransitions",
            .run_kind = RunScope::kFlow,
            .from_states = StateTypeSet::all(),
            .to_states = StateTypeSet::all(),
            .description =
                "rejects (keeping the current state) a proposal whose transition_id equals the "
                "current state's",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    const auto& a = initial->details->transition_id;
    const auto& b = proposed->details->transition_id;
    if (a && b && *a == *b)
      hook.reject_transition(nullptr, "This run has already made this state transition.");
  }
};

class HandleFlowTerminalStateTransitions final : public Rule {
 public:
  HandleFlowTerminalStateTransitions()
      : Rule({
            .name = "HandleFlowTerminalStateTransitions",
            .run_kind = RunScope::kFlow,
            .from_states = StateTypeSet::terminal(),
            .to_states = StateTypeSet::all(),
            .description =
                "keeps flow runs in terminal states: no CANCELLING/PAUSED/CRASHED, no leaving a "
                "COMPLETED state with persisted data, no rescheduling without a deployment; "
                "resets pause metadata on manual retries",
        }) {}

  void before_transition(RuleHook& hook) const override {
    Run& run = hook.run();
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    hook.emplace_scratch<Json>(run.empirical_policy);  // Prefect's self.original_flow_policy

    if (is_abort_target(proposed->type)) {
      hook.abort_transition("Run is already in terminal state " +
                            std::string(type_name(initial->type)) + ".");
      return;
    }
    if (initial->type == StateType::kCompleted && !is_final(proposed->type) &&
        carries_persisted_result(initial)) {
      hook.reject_transition(nullptr, "Run is already COMPLETED.");
      return;
    }
    if (loses_result_data(initial, proposed)) {
      hook.reject_transition(nullptr, kDataLossReason);
      return;
    }
    if (proposed->type == StateType::kScheduled && !run.deployment_id) {
      hook.abort_transition("Cannot reschedule a run without an associated deployment.");
      return;
    }
    if (!is_final(proposed->type) && api_version_at_least(hook.parameters(), "0.8.4")) {
      // A manual retry starts the pause bookkeeping afresh.
      update_run_policy(
          run, Json{{"resuming", false},
                    {"pause_keys", Json::array()},
                    {"retry_type", proposed->type == StateType::kScheduled ? Json("reschedule")
                                                                           : Json(nullptr)}});
    }
  }

  void cleanup(RuleHook& hook) const override {
    Json* original = hook.scratch<Json>();
    if (!original) throw missing_attribute(name(), "original_flow_policy");
    // Prefect rebuilds the policy model from the saved dump, which re-runs its back-fill.
    Run& run = hook.run();
    run.empirical_policy = std::move(*original);
    update_run_policy(run, Json::object());
  }
};

class PreventResultDataLoss final : public Rule {
 public:
  PreventResultDataLoss()
      : Rule({
            .name = "PreventResultDataLoss",
            .run_kind = RunScope::kFlow,
            .from_states = StateTypeSet::terminal(),
            .to_states = StateTypeSet::terminal(),
            .description =
                "rejects COMPLETED -> COMPLETED when it would drop persisted result data (kept "
                "under force)",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    if (loses_result_data(initial, proposed)) hook.reject_transition(nullptr, kDataLossReason);
  }
};

class HandleTaskTerminalStateTransitions final : public Rule {
 public:
  HandleTaskTerminalStateTransitions()
      : Rule({
            .name = "HandleTaskTerminalStateTransitions",
            .run_kind = RunScope::kTask,
            .from_states = StateTypeSet::terminal(),
            .to_states = StateTypeSet::all(),
            .description =
                "keeps task runs in terminal states: no CANCELLING/PAUSED/CRASHED, no leaving a "
                "COMPLETED state with persisted data; resets run_count on reruns and renames "
                "them Retrying when the flow run is on a later attempt",
        }) {}

  void before_transition(RuleHook& hook) const override {
    Run& run = hook.run();
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    hook.emplace_scratch<int>(run.run_count);  // Prefect's self.original_run_count

    if (is_abort_target(proposed->type)) {
      hook.abort_transition("Run is already " + std::string(type_name(initial->type)) + ".");
      return;
    }
    // The task predicate raises on truthy non-object data, as Prefect's .get() does.
    if (initial->type == StateType::kCompleted && task_has_persisted_result(initial->data)) {
      hook.reject_transition(nullptr, "This run is already completed.");
      return;
    }
    if (!is_final(proposed->type)) run.run_count = 0;  // a rerun starts its retries afresh

    if (proposed->type == StateType::kRunning && run.flow_run_id && hook.services()) {
      auto flow_run = hook.services()->read_flow_run(*run.flow_run_id);
      if (flow_run && run.flow_run_run_count < flow_run->run.run_count)
        hook.rename_state("Retrying");
    }
  }

  void cleanup(RuleHook& hook) const override {
    const int* original = hook.scratch<int>();
    if (!original) throw missing_attribute(name(), "original_run_count");
    hook.run().run_count = *original;
  }
};

}  // namespace

void add_terminal_rules(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_rule<PreventDuplicateTransitions>());
  out.push_back(builtin_rule<HandleFlowTerminalStateTransitions>());
  out.push_back(builtin_rule<PreventResultDataLoss>());
  out.push_back(builtin_rule<HandleTaskTerminalStateTransitions>());
}

}  // namespace runctl
