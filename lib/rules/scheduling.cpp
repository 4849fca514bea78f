// Scheduled starts: Prefect's EnsureOnlyScheduledFlowsMarkedLate, CopyScheduledTime and
// WaitForScheduledTime.
#include "engine/intervals.hpp"
#include "rules/families.hpp"

namespace runctl {
namespace {

class EnsureOnlyScheduledFlowsMarkedLate final : public Rule {
 public:
  EnsureOnlyScheduledFlowsMarkedLate()
      : Rule({
            .name = "EnsureOnlyScheduledFlowsMarkedLate",
            .run_kind = RunScope::kFlow,
            .from_states = StateTypeSet::all(),
            .to_states = {StateType::kScheduled},
            .description =
                "rejects (keeping the current state) a Late proposal unless the run is SCHEDULED "
                "and not already Late",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    if (proposed->type != StateType::kScheduled || proposed->name != "Late") return;
    if (initial->type != StateType::kScheduled) {
      hook.reject_transition(nullptr, "Only scheduled flows can be marked late.");
    } else if (initial->name == "Late") {
      hook.reject_transition(nullptr, "This flow run is already marked late.");
    }
  }
};

class CopyScheduledTime final : public Rule {
 public:
  CopyScheduledTime()
      : Rule({
            .name = "CopyScheduledTime",
            .run_kind = RunScope::kGeneric,
            .from_states = {StateType::kScheduled},
            .to_states = {StateType::kPending},
            .description =
                "copies the scheduled time of a SCHEDULED state onto the PENDING proposal",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    // The details are shared with the real proposal, which is how Prefect's copy reaches it.
    if (!proposed->details->scheduled_time)
      proposed->details->scheduled_time = initial->details->scheduled_time;
  }
};

class WaitForScheduledTime final : public Rule {
 public:
  WaitForScheduledTime()
      : Rule({
            .name = "WaitForScheduledTime",
            .run_kind = RunScope::kGeneric,
            .from_states = {StateType::kScheduled, StateType::kPending},
            .to_states = {StateType::kRunning},
            .description =
                "delays (WAIT) a RUNNING proposal until the current state's scheduled time",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    if (!initial || !hook.state_view()) return;
    const auto& scheduled = initial->details->scheduled_time;
    if (!scheduled) return;
    const std::int64_t delay = scheduled_wait_seconds(*scheduled, hook.now());
    if (delay > 0) hook.delay_transition(delay, "Scheduled time is in the future");
  }
};

}  // namespace

void add_scheduling_rules(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_rule<EnsureOnlyScheduledFlowsMarkedLate>());
  out.push_back(builtin_rule<CopyScheduledTime>());
  out.push_back(builtin_rule<WaitForScheduledTime>());
}

}  // namespace runctl
