// Pausing and resuming flow runs: Prefect's HandlePausingFlows and HandleResumingPausedFlows.
#include <algorithm>
#include <cctype>
#include <string>

#include "rules/families.hpp"
#include "rules/rule_support.hpp"

namespace runctl {
namespace {

std::string verb_for(const State& proposed) {
  return proposed.name == "Suspended" ? "suspend" : "pause";
}

// Python's str.lower(), for ASCII letters only (docs/deviations.md, "Rules").
std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

class HandlePausingFlows final : public Rule {
 public:
  HandlePausingFlows()
      : Rule({
            .name = "HandlePausingFlows",
            .run_kind = RunScope::kFlow,
            .from_states = StateTypeSet::all(),
            .to_states = {StateType::kPaused},
            .description =
                "lets only RUNNING flow runs pause, each pause key once; suspensions need a "
                "deployment and no parent task run",
        }) {}

  void before_transition(RuleHook& hook) const override {
    Run& run = hook.run();
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!proposed) return;
    const std::string verb = verb_for(*proposed);

    if (!initial) {
      hook.abort_transition("Cannot " + verb + " flows with no state.");
      return;
    }
    if (initial->type != StateType::kRunning) {
      hook.reject_transition(nullptr, "Cannot " + verb + " flows that are not currently running.");
      return;
    }
    // Without a key every pause is a distinct site (Prefect draws a random UUID4).
    const std::string& key = hook.emplace_scratch<std::string>(
        proposed->details->pause_key ? *proposed->details->pause_key : hook.new_uuid());

    if (fired_keys_contain(run, key)) {
      hook.reject_transition(nullptr, "This " + verb + " has already fired.");
      return;
    }
    if (proposed->details->pause_reschedule) {
      if (run.parent_task_run_id) {
        hook.abort_transition("Cannot " + verb + " subflows.");
        return;
      }
      if (!run.deployment_id) {
        hook.abort_transition("Cannot " + verb + " flows without a deployment.");
        return;
      }
    }
  }

  // Runs only for an accepted pause: every rejection above leaves TO = {PAUSED}, so the rule is
  // then invalid on exit.
  void after_transition(RuleHook& hook) const override {
    const std::string* key = hook.scratch<std::string>();
    if (!key) throw HookError("'HandlePausingFlows' object has no attribute 'key'");
    Run& run = hook.run();
    auto it = run.empirical_policy.find("pause_keys");
    Json keys = it == run.empirical_policy.end() ? Json::array() : *it;
    // Prefect calls set.add on the dumped value: a stored null has no .add.
    if (keys.is_null()) throw HookError("'NoneType' object has no attribute 'add'");
    if (std::find(keys.begin(), keys.end(), Json(*key)) == keys.end()) keys.push_back(*key);
    update_run_policy(run, Json{{"pause_keys", std::move(keys)}});
  }

 private:
  static bool fired_keys_contain(const Run& run, const std::string& key) {
    auto it = run.empirical_policy.find("pause_keys");
    if (it == run.empirical_policy.end() || !it->is_array()) return false;  // `or set()`
    return std::find(it->begin(), it->end(), Json(key)) != it->end();
  }
};

class HandleResumingPausedFlows final : public Rule {
 public:
  HandleResumingPausedFlows()
      : Rule({
            .name = "HandleResumingPausedFlows",
            .run_kind = RunScope::kFlow,
            .from_states = {StateType::kPaused},
            .to_states = StateTypeSet::all(),
            .description =
                "lets PAUSED flow runs leave only for RUNNING, SCHEDULED or a terminal state; "
                "fails timed-out pauses; marks the run as resuming",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    const StateType p = proposed->type;
    if (!(p == StateType::kRunning || p == StateType::kScheduled || is_final(p))) {
      // Prefect formats the StateType objects themselves here ("StateType.PENDING", Python
      // >= 3.11).
      hook.reject_transition(nullptr, "This run cannot transition to the " + python_state_type(p) +
                                          " state from the " + python_state_type(initial->type) +
                                          " state.");
      return;
    }
    const std::string verb = verb_for(*proposed);
    const std::string display =
        lower(proposed->name.empty() ? std::string(type_name(p)) : proposed->name);

    if (initial->details->pause_reschedule && !hook.run().deployment_id) {
      hook.reject_transition(nullptr,
                             "Cannot reschedule a " + display + " flow run without a deployment.");
      return;
    }
    const auto& timeout = initial->details->pause_timeout;
    if (timeout && *timeout < hook.now()) {
      StateProposal failed;
      failed.type = StateType::kFailed;
      failed.message = "The flow was " + display + " and never resumed.";
      hook.reject_transition(hook.new_state(failed),
                             "The flow run " + verb + " has timed out and can no longer resume.");
      return;
    }
  }

  // Quirk kept from Prefect: TO = ALL (null and FAILED included), so this also runs after this
  // rule's own rejections, marking a run that stays PAUSED (or failed on timeout) as resuming.
  void after_transition(RuleHook& hook) const override {
    update_run_policy(hook.run(), Json{{"resuming", true}});
  }
};

}  // namespace

void add_pausing_rules(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_rule<HandlePausingFlows>());
  out.push_back(builtin_rule<HandleResumingPausedFlows>());
}

}  // namespace runctl
