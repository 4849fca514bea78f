// Shared helpers for the engine unit tests: a context over a run of a given transition, rules
// and transforms that count their hook calls, and a fake store. Header-only.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/chain.hpp"
#include "engine/context.hpp"
#include "engine/rule.hpp"
#include "engine/state.hpp"
#include "engine/state_type.hpp"
#include "service/detached_services.hpp"
#include "util/time.hpp"
#include "util/uuid.hpp"

namespace runctl::testing {

// 2026-01-01T12:00:00Z: a fixed "now", so timestamps are exact.
constexpr Timestamp kNow = 1'767'268'800LL * kMicrosPerSecond;

// The nine state types by their short names, for every engine test.
inline constexpr StateType kScheduled = StateType::kScheduled;
inline constexpr StateType kPending = StateType::kPending;
inline constexpr StateType kRunning = StateType::kRunning;
inline constexpr StateType kCompleted = StateType::kCompleted;
inline constexpr StateType kFailed = StateType::kFailed;
inline constexpr StateType kCancelled = StateType::kCancelled;
inline constexpr StateType kCrashed = StateType::kCrashed;
inline constexpr StateType kPaused = StateType::kPaused;
inline constexpr StateType kCancelling = StateType::kCancelling;

using Strings = std::vector<std::string>;

// The message of a captured exception ("?" for one that is not a std::exception).
inline std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "?";
  }
}

// Every member of ALL_ORCHESTRATION_STATES: the nine types, then NONE.
inline std::vector<MaybeType> all_maybe_types() {
  std::vector<MaybeType> out;
  StateTypeSet::all().for_each([&](MaybeType t) { out.push_back(t); });
  return out;
}

// The nine types only.
inline std::vector<StateType> all_types() {
  std::vector<StateType> out;
  for (int i = 0; i < kStateTypeCount; ++i) out.push_back(static_cast<StateType>(i));
  return out;
}

// A type that is neither a nor b (Prefect's tests pick "a third type" this way).
inline StateType third_type(MaybeType a, MaybeType b) {
  for (StateType t : all_types())
    if (MaybeType(t) != a && MaybeType(t) != b) return t;
  throw std::logic_error("no third type");
}

// Strings for assertions, so doctest prints readable values on failure.
inline std::string name_of(MaybeType t) {
  return std::string(type_name(t));
}
inline std::string name_of(SetStateStatus s) {
  return std::string(status_name(s));
}
inline std::string name_of(const StatePtr& s) {
  return s ? std::string(type_name(s->type)) : "NONE";
}

inline StateProposal proposal(StateType type, std::optional<std::string> name = std::nullopt) {
  StateProposal p;
  p.type = type;
  p.name = std::move(name);
  return p;
}

inline RuleInfo info(const std::string& name, StateTypeSet from = StateTypeSet::all(),
                     StateTypeSet to = StateTypeSet::all()) {
  return RuleInfo{.name = name, .from_states = from, .to_states = to, .description = "test rule"};
}

// A test rule: counts its hook calls, logs "NAME:hook" into a shared journal (to check the
// order of hooks across rules), then runs the optional action for that hook.
class TestRule final : public Rule {
 public:
  using Action = std::function<void(RuleHook&)>;

  explicit TestRule(RuleInfo i, std::vector<std::string>* journal = nullptr)
      : Rule(std::move(i)), journal_(journal) {}

  Action on_before, on_after, on_cleanup;
  mutable int before = 0, after = 0, cleanup_calls = 0;

  void before_transition(RuleHook& h) const override { fire(h, before, on_before, "before"); }
  void after_transition(RuleHook& h) const override { fire(h, after, on_after, "after"); }
  void cleanup(RuleHook& h) const override { fire(h, cleanup_calls, on_cleanup, "cleanup"); }

  // before - cleanup: Prefect's tests check that a fizzled rule's cleanup undoes its before.
  int net_side_effects() const { return before - cleanup_calls; }

 private:
  void fire(RuleHook& h, int& counter, const Action& action, const char* hook) const {
    ++counter;
    if (journal_) journal_->push_back(name() + ":" + hook);
    if (action) action(h);
  }
  std::vector<std::string>* journal_;
};

class TestTransform final : public Transform {
 public:
  using Action = std::function<void(Context&)>;

  explicit TestTransform(const std::string& name, std::vector<std::string>* journal = nullptr)
      : Transform({.name = name, .description = "test transform"}), journal_(journal) {}

  Action on_before, on_after;
  mutable int before = 0, after = 0;

  void before_transition(Context& c) const override { fire(c, before, on_before, "before"); }
  void after_transition(Context& c) const override { fire(c, after, on_after, "after"); }

 private:
  void fire(Context& c, int& counter, const Action& action, const char* hook) const {
    ++counter;
    if (journal_) journal_->push_back(name() + ":" + hook);
    if (action) action(c);
  }
  std::vector<std::string>* journal_;
};

inline std::shared_ptr<TestRule> make_rule(const std::string& name,
                                           StateTypeSet from = StateTypeSet::all(),
                                           StateTypeSet to = StateTypeSet::all(),
                                           std::vector<std::string>* journal = nullptr) {
  return std::make_shared<TestRule>(info(name, from, to), journal);
}

inline std::shared_ptr<TestTransform> make_transform(const std::string& name,
                                                     std::vector<std::string>* journal = nullptr) {
  return std::make_shared<TestTransform>(name, journal);
}

inline PolicyEntry entry(std::shared_ptr<const Rule> rule) {
  return PolicyEntry{rule, nullptr};
}
inline PolicyEntry entry(std::shared_ptr<const Transform> t) {
  return PolicyEntry{nullptr, t};
}

// The store, faked: records what validation writes, or fails the way it is told to.
// The rest of the interface serves built-in rules, which these tests do not run.
class FakeServices final : public DetachedServices {
 public:
  std::function<void(const Run&, State&)> on_write;
  std::vector<std::string> written_ids;

  void write_state(const Run& run, State& state) override {
    if (on_write) on_write(run, state);
    written_ids.push_back(state.id);
  }
};

// Each harness mints different ids, so two harnesses in one test (or sharing one fake store)
// never collide. Ids stay deterministic for a given order of tests.
inline std::uint64_t next_uuid_seed() {
  static std::uint64_t seed = 42;
  return seed++;
}

// One orchestration: a run whose current state is of type `initial` (written 5 s before now, as
// Prefect's fixtures do), proposed a fresh state of type `proposed` with its default name.
struct Harness {
  Run run;
  FixedClock clock{kNow};
  RandomUuidGenerator uuids{next_uuid_seed()};
  FakeServices services;
  Context ctx;

  explicit Harness(MaybeType initial, MaybeType proposed, RunKind kind = RunKind::kTask) {
    run.kind = kind;
    run.id = uuids.next();
    ctx.kind = kind;
    ctx.run = &run;
    ctx.clock = &clock;
    ctx.uuids = &uuids;
    ctx.services = &services;
    if (initial) {
      ctx.initial_state = state(*initial, kNow - 5 * kMicrosPerSecond);
      run.state_id = ctx.initial_state->id;
      run.state_type = *initial;
      run.state_name = ctx.initial_state->name;
    }
    if (proposed) ctx.proposed_state = state(*proposed, kNow);
  }

  StatePtr state(StateType type, Timestamp at = kNow) {
    StateProposal p;
    p.type = type;
    return make_state(p, uuids.next(), at);
  }

  ChainOutcome run_chain(const std::vector<PolicyEntry>& rules,
                         const std::vector<PolicyEntry>& transforms = {}) {
    return orchestrate(rules, transforms, ctx);
  }
};

}  // namespace runctl::testing
