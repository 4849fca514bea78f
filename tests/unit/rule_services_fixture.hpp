// Shared by the unit tests of the scheduling, retry, caching and task-run rules: a fake store that
// serves what those rules ask for (flow runs, the state cache, nested task orchestrations, the
// task queue) and records what they do, a scripted random source, and a harness that runs
// built-in rules by name. Header-only.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/chain.hpp"
#include "engine_fixture.hpp"
#include "rules/registry.hpp"

namespace runctl::testing {

constexpr Timestamp kSecond = kMicrosPerSecond;
constexpr Timestamp kMinute = 60 * kSecond;
constexpr Timestamp kDay = 24 * 60 * kMinute;

class RuleFakeServices final : public Services {
 public:
  // Flow runs read_flow_run() knows, by id.
  std::map<std::string, RunSnapshot> flow_runs;
  std::vector<std::string> flow_run_reads;

  // Every written state, by id, as the store would keep it (deep copies).
  std::map<std::string, State> states;
  std::function<void(const Run&, State&)> on_write;

  struct CacheEntry {
    std::string key;
    std::optional<Timestamp> expiration;
    std::string state_id;
    Timestamp created;
  };
  std::vector<CacheEntry> cache;  // insertion order = creation order
  std::vector<std::pair<std::string, Timestamp>> cache_lookups;

  // Legacy RetryFailedFlows path.
  std::map<std::string, std::vector<std::string>> failed_by_flow_run;
  struct Forced {
    std::string task_run_id;
    State state;
  };
  std::vector<Forced> forced;
  std::vector<std::pair<std::string, int>> run_counts_set;
  std::vector<std::string> journal;  // "force:<id>", "count:<id>=<n>", in call order

  struct Enqueued {
    Run run;
    std::string queue;
  };
  std::vector<Enqueued> enqueued;

  // What concurrency() hands the concurrency rules (null: they do nothing).
  ConcurrencyServices* concurrency_port = nullptr;
  ConcurrencyServices* concurrency() override { return concurrency_port; }

  void write_state(const Run& run, State& state) override {
    if (on_write) on_write(run, state);
    states[state.id] = state.deep_copy();
  }

  std::optional<RunSnapshot> read_flow_run(const std::string& id) override {
    flow_run_reads.push_back(id);
    auto it = flow_runs.find(id);
    if (it == flow_runs.end()) return std::nullopt;
    return it->second;
  }

  // Newest live entry only; a dangling state id is a miss (older entries are not consulted).
  StatePtr find_cached_state(const std::string& key, Timestamp now) override {
    cache_lookups.push_back({key, now});
    for (auto it = cache.rbegin(); it != cache.rend(); ++it) {
      if (it->key != key || (it->expiration && *it->expiration <= now)) continue;
      auto s = states.find(it->state_id);
      if (s == states.end()) return nullptr;
      return std::make_shared<State>(s->second.deep_copy());
    }
    return nullptr;
  }

  void insert_cache_entry(const std::string& key, std::optional<Timestamp> expiration,
                          const std::string& task_run_state_id, Timestamp now) override {
    cache.push_back({key, expiration, task_run_state_id, now});
  }

  bool flow_state_timestamp_taken(const std::string&, Timestamp) override { return false; }

  void force_task_run_state(const std::string& task_run_id, const State& state) override {
    journal.push_back("force:" + task_run_id);
    forced.push_back({task_run_id, state.deep_copy()});
  }
  std::vector<std::string> failed_task_runs(const std::string& flow_run_id) override {
    auto it = failed_by_flow_run.find(flow_run_id);
    return it == failed_by_flow_run.end() ? std::vector<std::string>{} : it->second;
  }
  void set_task_run_count(const std::string& task_run_id, int run_count) override {
    journal.push_back("count:" + task_run_id + "=" + std::to_string(run_count));
    run_counts_set.push_back({task_run_id, run_count});
  }

  void enqueue_task_run(const Run& task_run, const std::string& queue) override {
    enqueued.push_back({task_run, queue});
  }
};

// uniform(low, high) = low + (high - low) * fraction, for a scripted fraction; records calls.
class ScriptedRandom final : public RandomSource {
 public:
  explicit ScriptedRandom(double fraction) : fraction_(fraction) {}
  double uniform(double low, double high) override {
    calls.push_back({low, high});
    return low + (high - low) * fraction_;
  }
  std::vector<std::pair<double, double>> calls;

 private:
  double fraction_;
};

// A built-in rule or transform by its registered name.
inline PolicyEntry builtin(const std::string& name) {
  const BuiltinEntry* e = find_builtin_entry(name);
  REQUIRE_MESSAGE(e != nullptr, name << " is not registered");
  return e->entry;
}

inline std::vector<PolicyEntry> builtins(const std::vector<std::string>& names) {
  std::vector<PolicyEntry> out;
  for (const auto& n : names) out.push_back(builtin(n));
  return out;
}

inline const RuleInfo& builtin_info(const std::string& name) {
  const BuiltinEntry* e = find_builtin_entry(name);
  REQUIRE_MESSAGE(e != nullptr, name << " is not registered");
  return e->entry.info();
}

// One orchestration of a run whose current state (if any) was written 5 s before now, with a
// proposal of `proposed` (default name) at now. The services may be shared between harnesses,
// as two runs share one database.
struct RuleHarness {
  Run run;
  FixedClock clock;
  RandomUuidGenerator uuids{next_uuid_seed()};
  std::shared_ptr<RuleFakeServices> services;
  ScriptedRandom random{0.5};
  Context ctx;

  RuleHarness(MaybeType initial, MaybeType proposed, RunKind kind = RunKind::kTask,
              std::shared_ptr<RuleFakeServices> shared = nullptr, Timestamp now = kNow)
      : clock(now), services(shared ? std::move(shared) : std::make_shared<RuleFakeServices>()) {
    run.kind = kind;
    run.id = uuids.next();
    ctx.kind = kind;
    ctx.run = &run;
    ctx.clock = &clock;
    ctx.uuids = &uuids;
    ctx.random = &random;
    ctx.services = services.get();
    if (initial) set_initial(state(*initial, now - 5 * kSecond));
    if (proposed) ctx.proposed_state = state(*proposed, now);
  }

  // The context points into the harness.
  RuleHarness(const RuleHarness&) = delete;
  RuleHarness& operator=(const RuleHarness&) = delete;

  StatePtr state(StateType type, Timestamp at, std::optional<std::string> name = std::nullopt) {
    StateProposal p;
    p.type = type;
    p.name = std::move(name);
    return make_state(p, uuids.next(), at);
  }

  // Makes `s` the run's current state, stored as the store would have it.
  void set_initial(StatePtr s) {
    ctx.initial_state = std::move(s);
    run.state_id = ctx.initial_state->id;
    run.state_type = ctx.initial_state->type;
    run.state_name = ctx.initial_state->name;
    services->states[ctx.initial_state->id] = ctx.initial_state->deep_copy();
  }

  ChainOutcome run_rules(const std::vector<std::string>& names,
                         const std::vector<PolicyEntry>& extra_after = {}) {
    std::vector<PolicyEntry> rules = builtins(names);
    rules.insert(rules.end(), extra_after.begin(), extra_after.end());
    return orchestrate(rules, {}, ctx);
  }

  std::string status() const { return name_of(ctx.response_status); }
  std::optional<std::string> reason() const { return ctx.response_details.reason; }
};

inline bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace runctl::testing
