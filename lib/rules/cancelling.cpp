// Cancellation: Prefect's EnforceCancellingToCancelledTransition and
// BypassCancellingFlowRunsWithNoInfra.
#include "rules/families.hpp"

namespace runctl {
namespace {

class EnforceCancellingToCancelledTransition final : public Rule {
 public:
  // Prefect declares it task-typed but lists it only in CoreFlowPolicy; it reads nothing of the
  // run, so the scope below is where it is used.
  EnforceCancellingToCancelledTransition()
      : Rule({
            .name = "EnforceCancellingToCancelledTransition",
            .run_kind = RunScope::kFlow,
            .from_states = {StateType::kCancelling},
            .to_states = StateTypeSet::all().without(MaybeType(StateType::kCancelled)),
            .description = "rejects (keeping the current state) every way out of CANCELLING except "
                           "CANCELLED",
        }) {}

  // No null-guard in Prefect: FROM = {CANCELLING} means there always is an initial state.
  void before_transition(RuleHook& hook) const override {
    hook.reject_transition(
        nullptr, "Cannot transition flows that are cancelling to a state other than Cancelled.");
  }
};

class BypassCancellingFlowRunsWithNoInfra final : public Rule {
 public:
  BypassCancellingFlowRunsWithNoInfra()
      : Rule({
            .name = "BypassCancellingFlowRunsWithNoInfra",
            .run_kind = RunScope::kFlow,
            .from_states = {StateType::kScheduled, StateType::kPaused},
            .to_states = {StateType::kCancelling},
            .description =
                "cancels directly (CANCELLED instead of CANCELLING) runs with no infrastructure: "
                "scheduled without a pid, Resuming, or suspended",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    if (!initial || !hook.state_view()) return;
    const auto& pid = hook.run().infrastructure_pid;
    const bool no_infra = !pid || pid->empty();
    // "Resuming" wins even when a pid exists: the run left its infrastructure when suspended.
    if ((initial->type == StateType::kScheduled && no_infra) || initial->name == "Resuming") {
      hook.reject_transition(cancelled(hook),
                             "Scheduled flow run has no infrastructure to terminate.");
    } else if (initial->type == StateType::kPaused && initial->details->pause_reschedule) {
      hook.reject_transition(cancelled(hook),
                             "Suspended flow run has no infrastructure to terminate.");
    }
  }

 private:
  static StatePtr cancelled(RuleHook& hook) {
    StateProposal p;
    p.type = StateType::kCancelled;
    return hook.new_state(p);
  }
};

}  // namespace

void add_cancelling_rules(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_rule<EnforceCancellingToCancelledTransition>());
  out.push_back(builtin_rule<BypassCancellingFlowRunsWithNoInfra>());
}

}  // namespace runctl
