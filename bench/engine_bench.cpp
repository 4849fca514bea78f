// The engine alone: one chain evaluation of a built-in policy per iteration, in memory, on a
// faked store. An evaluation is what apply_transition does around SQLite: the context (the run's
// current state as a load would give it, a freshly minted proposal), then orchestrate() with the
// policy's rules and its global transforms.
#include <benchmark/benchmark.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/chain.hpp"
#include "policy/policy.hpp"
#include "service/detached_services.hpp"
#include "service/transition.hpp"
#include "util/random.hpp"
#include "util/time.hpp"
#include "util/uuid.hpp"

namespace {

using namespace runctl;

constexpr Timestamp kNow = 1'767'268'800LL * kMicrosPerSecond;  // 2026-01-01T12:00:00Z

struct Setup {
  RunKind kind;
  Run run;
  State initial;
  StateProposal proposal;
  PreparedPolicy policy;
  FixedClock clock{kNow};
  RandomUuidGenerator uuids{42};
  SeededRandom random{7};
  // Every read finds nothing and every write succeeds: the rules' own work is what is measured.
  DetachedServices services;

  Setup(RunKind k, StateType from, StateType to)
      : kind(k), policy(load_builtin_policy(core_policy(k)), k) {
    run.kind = k;
    run.id = uuids.next();
    run.name = "bench-run";
    run.created = kNow - 60 * kMicrosPerSecond;
    if (k == RunKind::kFlow) {
      run.empirical_policy =
          Json{{"max_retries", 0},       {"retry_delay_seconds", 0},    {"retries", nullptr},
               {"retry_delay", nullptr}, {"pause_keys", Json::array()}, {"resuming", false},
               {"retry_type", nullptr}};
    } else {
      run.empirical_policy = Json{{"max_retries", 0},
                                  {"retry_delay_seconds", 0},
                                  {"retries", nullptr},
                                  {"retry_delay", nullptr},
                                  {"retry_jitter_factor", nullptr}};
    }
    StateProposal p;
    p.type = from;
    initial = *make_state(p, uuids.next(), kNow - 5 * kMicrosPerSecond);
    if (k == RunKind::kFlow)
      initial.details->flow_run_id = run.id;
    else
      initial.details->task_run_id = run.id;
    run.state_id = initial.id;
    run.state_type = initial.type;
    run.state_name = initial.name;
    run.state_timestamp = initial.timestamp;
    if (from == StateType::kRunning) {
      run.start_time = initial.timestamp;
      run.run_count = 1;
    }
    proposal.type = to;
  }

  // One evaluation. `prepared`: the rule lists come compiled from the policy (apply); otherwise
  // they are compiled for this call (set-state).
  SetStateStatus evaluate(bool prepared) {
    Run live = run;  // the run as loaded: rules mutate it
    Context c;
    c.kind = kind;
    c.run = &live;
    c.initial_state = std::make_shared<State>(initial.deep_copy());
    c.proposed_state = make_state(proposal, uuids.next(), clock.now());
    c.clock = &clock;
    c.uuids = &uuids;
    c.random = &random;
    c.services = &services;
    if (prepared)
      orchestrate(policy.compiled(c.initial_type(), c.proposed_type()), policy.policy().rules,
                  policy.transforms(), c);
    else
      orchestrate(policy.policy().rules, policy.transforms(), c);
    return c.response_status;
  }
};

void run_bench(benchmark::State& state, RunKind kind, StateType from, StateType to, bool prepared) {
  Setup setup(kind, from, to);
  for (auto _ : state) benchmark::DoNotOptimize(setup.evaluate(prepared));
  state.SetItemsProcessed(state.iterations());
  state.counters["rules"] = static_cast<double>(setup.policy.policy().rules.size());
}

void BM_CoreFlow_PendingToRunning(benchmark::State& s) {
  run_bench(s, RunKind::kFlow, StateType::kPending, StateType::kRunning, true);
}
void BM_CoreFlow_RunningToCompleted(benchmark::State& s) {
  run_bench(s, RunKind::kFlow, StateType::kRunning, StateType::kCompleted, true);
}
void BM_CoreTask_PendingToRunning(benchmark::State& s) {
  run_bench(s, RunKind::kTask, StateType::kPending, StateType::kRunning, true);
}
void BM_CoreTask_RunningToCompleted(benchmark::State& s) {
  run_bench(s, RunKind::kTask, StateType::kRunning, StateType::kCompleted, true);
}
// set-state's path: the policy's entries compiled on every call.
void BM_CoreFlow_PendingToRunning_Uncompiled(benchmark::State& s) {
  run_bench(s, RunKind::kFlow, StateType::kPending, StateType::kRunning, false);
}

BENCHMARK(BM_CoreFlow_PendingToRunning);
BENCHMARK(BM_CoreFlow_RunningToCompleted);
BENCHMARK(BM_CoreTask_PendingToRunning);
BENCHMARK(BM_CoreTask_RunningToCompleted);
BENCHMARK(BM_CoreFlow_PendingToRunning_Uncompiled);

}  // namespace

BENCHMARK_MAIN();
