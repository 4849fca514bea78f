// The chain runner (lib/engine/chain.cpp), exit: TO_STATES re-checked on exit, fizzling by type,
// exit order. A case named in words after a test of Prefect's
// tests/server/orchestration/test_rules.py pins what that test pins.
#include "engine/chain.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "engine_fixture.hpp"
#include "util/error.hpp"

namespace runctl::testing {
namespace {

// ---------------------------------------------------------------------------------------------
// Exit: re-checking TO_STATES, finalization

TEST_CASE("rules that reject state do not fizzle themselves") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Rejector");
  rule->on_before = [](RuleHook& hook) {
    auto mutated = hook.context().proposed_state;  // the hook's copy of the proposal
    mutated->type = StateType::kScheduled;
    hook.reject_transition(mutated, "for testing, of course");
  };
  h.run_chain({entry(rule)});
  CHECK(rule->before == 1);
  CHECK(rule->after == 1);
  CHECK(rule->cleanup_calls == 0);
  CHECK(name_of(h.ctx.validated_state) == "SCHEDULED");
}

TEST_CASE("rules that wait do not fizzle themselves") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Waiter");
  rule->on_before = [](RuleHook& hook) { hook.delay_transition(42, "for testing, of course"); };
  h.run_chain({entry(rule)});
  CHECK(rule->before == 1);
  CHECK(rule->after == 1);
  CHECK(rule->cleanup_calls == 0);
}

TEST_CASE("rules that abort do not fizzle themselves") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Aborter");
  rule->on_before = [](RuleHook& hook) { hook.abort_transition("for testing, of course"); };
  h.run_chain({entry(rule)});
  CHECK(rule->before == 1);
  CHECK(rule->after == 1);
  CHECK(rule->cleanup_calls == 0);
}

TEST_CASE("exit re-checks TO_STATES: a rule that leaves its own TO_STATES is invalid on exit") {
  const StateTypeSet running_only{kRunning};
  SUBCASE("reject into a type outside TO") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("R", StateTypeSet::all(), running_only);
    rule->on_before = [](RuleHook& hook) {
      hook.reject_transition(hook.new_state(proposal(kFailed)), "x");
    };
    h.run_chain({entry(rule)});
    CHECK(rule->after == 0);
    CHECK(rule->cleanup_calls == 0);
    CHECK(h.ctx.rule_signature == Strings{"R"});
    CHECK(h.ctx.finalization_signature.empty());
    CHECK(name_of(h.ctx.validated_state) == "FAILED");
  }
  SUBCASE("reject into a type inside TO") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("R", StateTypeSet::all(), StateTypeSet{kRunning, kFailed});
    rule->on_before = [](RuleHook& hook) {
      hook.reject_transition(hook.new_state(proposal(kFailed)), "x");
    };
    h.run_chain({entry(rule)});
    CHECK(rule->after == 1);
    CHECK(h.ctx.finalization_signature == Strings{"R"});
  }
  SUBCASE("delay with NONE not in TO") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("R", StateTypeSet::all(), running_only);
    rule->on_before = [](RuleHook& hook) { hook.delay_transition(5, "wait"); };
    h.run_chain({entry(rule)});
    CHECK(rule->after + rule->cleanup_calls == 0);
    CHECK(h.ctx.finalization_signature.empty());
    CHECK(name_of(h.ctx.response_status) == "WAIT");
  }
  SUBCASE("abort with NONE not in TO") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("R", StateTypeSet::all(), running_only);
    rule->on_before = [](RuleHook& hook) { hook.abort_transition("stop"); };
    h.run_chain({entry(rule)});
    CHECK(rule->after + rule->cleanup_calls == 0);
  }
  SUBCASE("null reject with NONE not in TO") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("R", StateTypeSet::all(), running_only);
    rule->on_before = [](RuleHook& hook) { hook.reject_transition(nullptr, "keep"); };
    h.run_chain({entry(rule)});
    CHECK(rule->after + rule->cleanup_calls == 0);
  }
  SUBCASE("null reject with NONE in TO") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("R", StateTypeSet::all(), StateTypeSet{kRunning, MaybeType()});
    rule->on_before = [](RuleHook& hook) { hook.reject_transition(nullptr, "keep"); };
    h.run_chain({entry(rule)});
    CHECK(rule->after == 1);
    CHECK(rule->cleanup_calls == 0);
  }
}

TEST_CASE("fizzling compares types only: a later change back to the intended type un-fizzles") {
  // Outer was built for PENDING -> RUNNING; M rejects into COMPLETED (Inner is then invalid);
  // the transform puts a RUNNING state back. On exit Outer sees its transition again and runs
  // after, while M, whose to-type the reject set to COMPLETED, now fizzles.
  Harness h(kPending, kRunning);
  Strings journal;
  auto outer = make_rule("Outer", StateTypeSet::all(), StateTypeSet::all(), &journal);
  auto m = make_rule("M", StateTypeSet::all(), StateTypeSet::all(), &journal);
  m->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(kCompleted)), "m");
  };
  auto inner = make_rule("Inner", StateTypeSet::all(), StateTypeSet::all(), &journal);
  auto restorer = make_transform("Restorer", &journal);
  restorer->on_before = [&](Context& c) { c.proposed_state = h.state(kRunning); };
  h.run_chain({entry(outer), entry(m), entry(inner)}, {entry(restorer)});
  CHECK(journal == Strings{"Outer:before", "M:before", "Restorer:before", "Restorer:after",
                           "M:cleanup", "Outer:after"});
  CHECK(h.ctx.finalization_signature == Strings{"Restorer", "Outer"});
}

TEST_CASE("a transform's after hook can fizzle every rule, as rules exit after it") {
  Harness h(kPending, kRunning);
  auto a = make_rule("A");
  auto b = make_rule("B");
  auto late = make_transform("LateChanger");
  late->on_after = [&](Context& c) { c.proposed_state = h.state(StateType::kCrashed); };
  h.run_chain({entry(a), entry(b)}, {entry(late)});
  CHECK(a->cleanup_calls == 1);
  CHECK(b->cleanup_calls == 1);
  CHECK(a->after + b->after == 0);
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");  // validated before the change
  CHECK(h.ctx.finalization_signature == Strings{"LateChanger"});
}

TEST_CASE("exit order: transforms exit first, innermost first") {
  Harness h(kPending, kRunning);
  Strings journal;
  auto r1 = make_rule("R1", StateTypeSet::all(), StateTypeSet::all(), &journal);
  auto r2 = make_rule("R2", StateTypeSet::all(), StateTypeSet::all(), &journal);
  auto t1 = make_transform("T1", &journal);
  auto t2 = make_transform("T2", &journal);
  h.run_chain({entry(r1), entry(r2)}, {entry(t1), entry(t2)});
  CHECK(journal == Strings{"R1:before", "R2:before", "T1:before", "T2:before", "T2:after",
                           "T1:after", "R2:after", "R1:after"});
  CHECK(h.ctx.rule_signature == Strings{"R1", "R2", "T1", "T2"});
  CHECK(h.ctx.finalization_signature == Strings{"T2", "T1", "R2", "R1"});
}

}  // namespace
}  // namespace runctl::testing
