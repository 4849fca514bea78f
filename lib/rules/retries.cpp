// Automatic retries and rerun naming: Prefect's RetryFailedFlows, RetryFailedTasks and
// RenameReruns.
#include <optional>
#include <string>

#include "engine/intervals.hpp"
#include "rules/families.hpp"
#include "rules/rule_support.hpp"

namespace runctl {
namespace {

// The run's policy as Prefect's rules see it: the stored JSON validated into FlowRunPolicy /
// TaskRunPolicy, whose validator back-fills the deprecated max_retries / retry_delay_seconds.
Json effective_policy(const Run& run) {
  Run view;
  view.empirical_policy = run.empirical_policy;
  update_run_policy(view, Json::object());
  return view.empirical_policy;
}

const Json& field(const Json& policy, const char* key) {
  static const Json kNull;
  auto it = policy.find(key);
  return it == policy.end() ? kNull : *it;
}

// An optional numeric policy field (retries): null when absent or null.
std::optional<double> optional_number(const Json& policy, const char* key) {
  const Json& v = field(policy, key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_number())
    throw HookError(std::string("invalid ") + key + " in the run policy: " + v.dump());
  return v.get<double>();
}

// Python's `value or 0` for a number of seconds.
double seconds_or_zero(const Json& v) {
  if (v.is_null()) return 0;
  if (!v.is_number()) throw HookError("invalid retry_delay in the run policy: " + v.dump());
  return v.get<double>();
}

// Prefect's AwaitingRetry(scheduled_time=at, message=..., data=...): the replacement keeps the
// failed proposal's message and the very same data object.
StatePtr awaiting_retry(RuleHook& hook, Timestamp at, const State* failed) {
  StateProposal p;
  p.type = StateType::kScheduled;
  p.name = "AwaitingRetry";
  p.details.scheduled_time = at;
  if (failed) p.message = failed->message;
  StatePtr state = hook.new_state(p);
  if (failed) state->data = failed->data;
  return state;
}

class RetryFailedFlows final : public Rule {
 public:
  RetryFailedFlows()
      : Rule({
            .name = "RetryFailedFlows",
            .run_kind = RunScope::kFlow,
            .from_states = {StateType::kRunning},
            .to_states = {StateType::kFailed},
            .description =
                "rejects FAILED into AwaitingRetry (SCHEDULED, after retry_delay) while run_count "
                "<= retries",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    ContextCopy& ctx = hook.context();
    Run& run = ctx.run;
    const Json policy = effective_policy(run);
    const std::optional<double> retries = optional_number(policy, "retries");
    if (!retries || run.run_count > *retries) {
      // Leaves room for a later infrastructure-level (manual) retry.
      update_run_policy(run, Json{{"retry_type", nullptr}});
      return;
    }
    const Timestamp retry_at =
        add_seconds(ctx.now(), seconds_or_zero(field(policy, "retry_delay")));

    // Clients older than API 0.8.3 expect the server to reschedule the flow's failed tasks.
    if (api_version_below(ctx.parameters, "0.8.3")) {
      for (const std::string& task_run_id : ctx.services->failed_task_runs(run.id)) {
        ctx.services->force_task_run_state(task_run_id, *awaiting_retry(hook, retry_at, nullptr));
        ctx.services->set_task_run_count(task_run_id, 0);
      }
    }
    // Pauses exist from API 0.8.4 on: a retry starts with fresh pause bookkeeping.
    if (api_version_at_least(ctx.parameters, "0.8.4")) {
      update_run_policy(
          run,
          Json{{"resuming", false}, {"pause_keys", Json::array()}, {"retry_type", "in_process"}});
    }
    hook.reject_transition(awaiting_retry(hook, retry_at, proposed), "Retrying");
  }
};

class RetryFailedTasks final : public Rule {
 public:
  RetryFailedTasks()
      : Rule({
            .name = "RetryFailedTasks",
            .run_kind = RunScope::kTask,
            .from_states = {StateType::kRunning},
            .to_states = {StateType::kFailed},
            .description =
                "rejects FAILED into AwaitingRetry (SCHEDULED, after the attempt's retry_delay, "
                "jittered) while run_count <= retries, unless the proposal is not retriable",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    ContextCopy& ctx = hook.context();
    const Run& run = ctx.run;
    const Json policy = effective_policy(run);

    // The delay is computed (and the random source drawn) even when no retry follows, as in
    // Prefect, so seeded runs draw the same sequence.
    const double base = retry_base_delay(field(policy, "retry_delay"), run.run_count);
    double delay = base;
    const Json& jitter = field(policy, "retry_jitter_factor");
    if (truthy(jitter) && base > 0) {
      if (!jitter.is_number())
        throw HookError("invalid retry_jitter_factor in the run policy: " + jitter.dump());
      if (!ctx.random) throw HookError("no random source for the retry jitter");
      delay = clamped_poisson_interval(base, jitter.get<double>(), *ctx.random);
    }

    // Set by the client (a task's retry condition) to veto the retry.
    if (proposed->details->retriable == false) return;

    const std::optional<double> retries = optional_number(policy, "retries");
    if (retries && run.run_count <= *retries) {
      hook.reject_transition(awaiting_retry(hook, add_seconds(ctx.now(), delay), proposed),
                             "Retrying");
    }
  }
};

class RenameReruns final : public Rule {
 public:
  RenameReruns()
      : Rule({
            .name = "RenameReruns",
            .run_kind = RunScope::kGeneric,
            .from_states = StateTypeSet::all(),
            .to_states = {StateType::kRunning},
            .description = "renames a RUNNING proposal of a run that ran before: Retrying after "
                           "AwaitingRetry, else Rerunning",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    if (!initial || !hook.state_view()) return;
    // run_count is still the number of earlier RUNNING entries: the increment is a global
    // transform that runs after the policy's rules.
    if (hook.run().run_count > 0)
      hook.rename_state(initial->name == "AwaitingRetry" ? "Retrying" : "Rerunning");
  }
};

}  // namespace

void add_retry_rules(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_rule<RetryFailedFlows>());
  out.push_back(builtin_rule<RetryFailedTasks>());
  out.push_back(builtin_rule<RenameReruns>());
}

}  // namespace runctl
