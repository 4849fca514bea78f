// Duplicate-submission protection: Prefect's PreventPendingTransitions.
#include "rules/families.hpp"

namespace runctl {
namespace {

class PreventPendingTransitions final : public Rule {
 public:
  PreventPendingTransitions()
      : Rule({
            .name = "PreventPendingTransitions",
            .run_kind = RunScope::kGeneric,
            .from_states = {StateType::kPending, StateType::kCancelling, StateType::kRunning,
                            StateType::kCancelled},
            .to_states = {StateType::kPending},
            .description =
                "aborts PENDING proposals for runs already PENDING, RUNNING, CANCELLING or "
                "CANCELLED; allows named PENDING sub-states (Pending -> Submitting -> ...)",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    if (initial->type == StateType::kPending && proposed->type == StateType::kPending &&
        initial->name != proposed->name && proposed->name != "Pending") {
      // Progress through a named sub-state keeps what earlier rules set on the PENDING state;
      // both fields are copied even when null, as Prefect does. The details are shared with the
      // real proposal, so this edits it.
      proposed->details->scheduled_time = initial->details->scheduled_time;
      proposed->details->deployment_concurrency_lease_id =
          initial->details->deployment_concurrency_lease_id;
      return;
    }
    hook.abort_transition("This run is in a " + std::string(type_name(initial->type)) +
                          " state and cannot transition to a PENDING state.");
  }
};

}  // namespace

void add_pending_rules(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_rule<PreventPendingTransitions>());
}

}  // namespace runctl
