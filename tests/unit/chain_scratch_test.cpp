// The chain runner (lib/engine/chain.cpp), per-instance scratch: what a rule keeps between its
// hooks. A case named in words after a test of Prefect's tests/server/orchestration/test_rules.py
// pins what that test pins.
#include "engine/chain.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "engine_fixture.hpp"
#include "util/error.hpp"

namespace runctl::testing {
namespace {

// ---------------------------------------------------------------------------------------------
// Per-instance scratch (Prefect's attributes on a rule instance, which lives for one transition)

// A rule that keeps a number in before_transition and reports what its after hook and cleanup
// find: Prefect's self.x, written in one hook and read in another.
std::shared_ptr<TestRule> keeper(const std::string& name, std::vector<std::string>& seen,
                                 int& next) {
  auto rule = make_rule(name);
  rule->on_before = [&seen, &next](RuleHook& hook) {
    seen.push_back(std::string("before found ") + (hook.scratch<int>() ? "a value" : "nothing"));
    hook.emplace_scratch<int>(next++);
  };
  auto report = [&seen](RuleHook& hook) {
    const int* kept = hook.scratch<int>();
    seen.push_back(std::string(hook_name(hook.hook())) + " found " +
                   (kept ? std::to_string(*kept) : "nothing"));
  };
  rule->on_after = report;
  rule->on_cleanup = report;
  return rule;
}

TEST_CASE("scratch: each entry of one rule object in a chain keeps its own value") {
  Harness h(kPending, kRunning);
  std::vector<std::string> seen;
  int next = 1;
  auto rule = keeper("Keeper", seen, next);
  h.run_chain({entry(rule), entry(rule)});
  CHECK(seen ==
        Strings{"before found nothing", "before found nothing", "after found 2", "after found 1"});
}

TEST_CASE("scratch: cleanup reads what its own before hook kept") {
  Harness h(kPending, kRunning);
  std::vector<std::string> seen;
  int next = 7;
  auto rule = keeper("Keeper", seen, next);
  auto mutator = make_rule("Mutator");
  mutator->on_before = [&h](RuleHook& hook) { hook.reject_transition(h.state(kFailed), "no"); };
  h.run_chain({entry(rule), entry(rule), entry(mutator)});
  CHECK(seen == Strings{"before found nothing", "before found nothing", "cleanup found 8",
                        "cleanup found 7"});
}

TEST_CASE("scratch: nothing carries over to the next transition") {
  std::vector<std::string> seen;
  int next = 1;
  auto rule = keeper("Keeper", seen, next);
  Harness first(kPending, kRunning);
  first.run_chain({entry(rule)});
  Harness second(kRunning, kCompleted);
  second.run_chain({entry(rule)});
  CHECK(seen ==
        Strings{"before found nothing", "after found 1", "before found nothing", "after found 2"});
}

TEST_CASE("scratch: a nested orchestration inside a hook has its own instances") {
  // As UpdateSubflowParentTask forces the parent task run's state from inside the subflow's
  // chain: the same rule objects run again, for another run, before the outer ones exit.
  std::vector<std::string> seen;
  int next = 1;
  auto rule = keeper("Keeper", seen, next);
  Harness outer(kRunning, kFailed, RunKind::kFlow);
  Harness inner(kRunning, kFailed, RunKind::kTask);
  auto nesting = make_transform("Nesting");
  nesting->on_after = [&](Context&) { inner.run_chain({entry(rule)}); };
  outer.run_chain({entry(rule)}, {entry(nesting)});
  CHECK(seen ==
        Strings{"before found nothing", "before found nothing", "after found 2", "after found 1"});
  // The two harnesses mint different ids.
  CHECK(outer.run.id != inner.run.id);
  CHECK(outer.ctx.validated_state->id != inner.ctx.validated_state->id);
}

}  // namespace
}  // namespace runctl::testing
