// The chain runner (lib/engine/chain.cpp), rule entry: FROM_STATES and TO_STATES checked against
// the intended transition, hooks in stack order, fizzling when the transition changes after entry.
// A case named in words after a test of Prefect's tests/server/orchestration/test_rules.py pins
// what that test pins.
#include "engine/chain.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "engine_fixture.hpp"
#include "util/error.hpp"

namespace runctl::testing {
namespace {

// ---------------------------------------------------------------------------------------------
// Rule entry

TEST_CASE("rule entry: invalid when the intended initial type is not in FROM_STATES") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("R", StateTypeSet::all().without(kPending));
  const auto out = h.run_chain({entry(rule)});
  CHECK(rule->before == 0);
  CHECK(rule->after == 0);
  CHECK(rule->cleanup_calls == 0);
  CHECK(h.ctx.rule_signature.empty());
  CHECK(h.ctx.finalization_signature.empty());
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
  CHECK_FALSE(out.error.has_value());
}

TEST_CASE("rule entry: invalid when the intended proposed type is not in TO_STATES") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("R", StateTypeSet::all(), StateTypeSet::all().without(kRunning));
  h.run_chain({entry(rule)});
  CHECK(rule->before + rule->after + rule->cleanup_calls == 0);
  CHECK(h.ctx.rule_signature.empty());
}

TEST_CASE("rule entry: NONE in FROM_STATES does not match a run that has a state") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("FirstStateRule", StateTypeSet{MaybeType()});
  h.run_chain({entry(rule)});
  CHECK(rule->before == 0);
  CHECK(h.ctx.rule_signature.empty());
}

TEST_CASE("rule entry: NONE in FROM_STATES matches a run without a state") {
  Harness h(std::nullopt, kPending);
  auto rule = make_rule("FirstStateRule", StateTypeSet{MaybeType()}, StateTypeSet{kPending});
  h.run_chain({entry(rule)});
  CHECK(rule->before == 1);
  CHECK(rule->after == 1);
  CHECK(h.ctx.rule_signature == Strings{"FirstStateRule"});
}

TEST_CASE("rule entry: invalid when an earlier rule changed the proposed type") {
  Harness h(kPending, kRunning);
  auto rejector = make_rule("Rejector");
  rejector->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(kFailed)), "no");
  };
  auto later = make_rule("Later");
  h.run_chain({entry(rejector), entry(later)});
  // Later accepts every type, but the context no longer shows the transition it was built for.
  CHECK(later->before == 0);
  CHECK(later->after == 0);
  CHECK(later->cleanup_calls == 0);
  CHECK(h.ctx.rule_signature == Strings{"Rejector"});
  CHECK(h.ctx.finalization_signature == Strings{"Rejector"});
}

TEST_CASE("rule entry: a rejection into another state of the same type keeps later rules valid") {
  Harness h(kPending, kRunning);
  auto rejector = make_rule("Rejector");
  rejector->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(kRunning, "Retrying")), "same type");
  };
  auto later = make_rule("Later");
  h.run_chain({entry(rejector), entry(later)});
  CHECK(later->before == 1);
  CHECK(later->after == 1);
  CHECK(h.ctx.finalization_signature == Strings{"Later", "Rejector"});
  CHECK(h.ctx.validated_state->name == "Retrying");
  CHECK(name_of(h.ctx.response_status) == "REJECT");
}

TEST_CASE("rule entry: the signature is appended after the before hook has run") {
  Harness h(kPending, kRunning);
  Strings seen_by_transform;
  auto rule = make_rule("R");
  auto transform = make_transform("T");
  transform->on_before = [&](Context& c) { seen_by_transform = c.rule_signature; };
  h.run_chain({entry(rule)}, {entry(transform)});
  // When T's before runs, R (entered earlier) is signed but T itself is not yet.
  CHECK(seen_by_transform == Strings{"R"});
  CHECK(h.ctx.rule_signature == Strings{"R", "T"});
}

TEST_CASE("orchestration rules are context managers: the governed body runs once") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Minimal");
  auto body = make_transform("Body");  // entered inside the rule
  h.run_chain({entry(rule)}, {entry(body)});
  CHECK(body->before == 1);
  CHECK(body->after == 1);
  CHECK(rule->before == 1);
}

TEST_CASE("valid rules fire before and after transitions") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Minimal");
  h.run_chain({entry(rule)});
  CHECK(rule->before == 1);
  CHECK(rule->after == 1);
  CHECK(rule->cleanup_calls == 0);
  CHECK(h.ctx.rule_signature == Strings{"Minimal"});
  CHECK(h.ctx.finalization_signature == Strings{"Minimal"});
}

TEST_CASE("invalid rules are no-ops (empty FROM/TO)") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Empty", StateTypeSet{}, StateTypeSet{});
  h.run_chain({entry(rule)});
  CHECK(rule->before + rule->after + rule->cleanup_calls == 0);
  CHECK(h.ctx.rule_signature.empty());
  CHECK(h.ctx.finalization_signature.empty());
}

TEST_CASE("fizzled rules fire before hooks then cleanup: the proposal changes after entry") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Minimal");
  // A transform is entered inside every rule, so it plays the part of Prefect's governed body.
  auto body = make_transform("Body");
  body->on_before = [&](Context& c) { c.proposed_state = h.state(kCompleted); };
  h.run_chain({entry(rule)}, {entry(body)});
  CHECK(rule->before == 1);
  CHECK(rule->after == 0);
  CHECK(rule->cleanup_calls == 1);
  CHECK(rule->net_side_effects() == 0);
  CHECK(h.ctx.finalization_signature == Strings{"Body"});
}

TEST_CASE("fizzled rules fire before hooks then cleanup: the initial state changes after entry") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Minimal");
  auto body = make_transform("Body");
  body->on_before = [&](Context& c) { c.initial_state = h.state(kCompleted); };
  h.run_chain({entry(rule)}, {entry(body)});
  CHECK(rule->before == 1);
  CHECK(rule->after == 0);
  CHECK(rule->cleanup_calls == 1);
}

TEST_CASE("rules enforce initial state validity") {
  for (MaybeType initial : all_maybe_types()) {
    CAPTURE(name_of(initial));
    Harness h(initial, std::nullopt);
    auto rule = make_rule("R", StateTypeSet::all().without(initial));
    h.run_chain({entry(rule)});
    CHECK(rule->before + rule->after + rule->cleanup_calls == 0);
  }
}

TEST_CASE("rules enforce proposed state validity") {
  for (MaybeType proposed : all_maybe_types()) {
    CAPTURE(name_of(proposed));
    Harness h(std::nullopt, proposed);
    auto rule = make_rule("R", StateTypeSet::all(), StateTypeSet::all().without(proposed));
    h.run_chain({entry(rule)});
    CHECK(rule->before + rule->after + rule->cleanup_calls == 0);
  }
}

TEST_CASE("nested valid rules fire hooks in stack order") {
  for (MaybeType initial : all_maybe_types()) {
    for (MaybeType proposed : all_maybe_types()) {
      CAPTURE(name_of(initial));
      CAPTURE(name_of(proposed));
      Harness h(initial, proposed);
      Strings journal;
      auto first = make_rule("First", StateTypeSet::all(), StateTypeSet::all(), &journal);
      auto second = make_rule("Second", StateTypeSet::all(), StateTypeSet::all(), &journal);
      h.run_chain({entry(first), entry(second)});
      CHECK(journal == Strings{"First:before", "Second:before", "Second:after", "First:after"});
      CHECK(first->cleanup_calls + second->cleanup_calls == 0);
      CHECK(h.ctx.finalization_signature == Strings{"Second", "First"});
    }
  }
}

TEST_CASE(
    "complex nested rules interact sensibly: "
    "the mutator invalidates later, fizzles earlier") {
  for (MaybeType initial : all_maybe_types()) {
    for (MaybeType proposed : all_maybe_types()) {
      CAPTURE(name_of(initial));
      CAPTURE(name_of(proposed));
      Harness h(initial, proposed);
      const StateType mutated = third_type(initial, proposed);
      auto first = make_rule("First");
      auto mutator = make_rule("Mutator");
      mutator->on_before = [&](RuleHook& hook) {
        hook.reject_transition(hook.new_state(proposal(mutated)), "testing my dear watson");
      };
      auto third = make_rule("Third");
      h.run_chain({entry(first), entry(mutator), entry(third)});
      CHECK(third->before + third->after + third->cleanup_calls == 0);
      CHECK(mutator->before == 1);
      CHECK(mutator->after == 1);
      CHECK(mutator->cleanup_calls == 0);
      CHECK(first->before == 1);
      CHECK(first->after == 0);
      CHECK(first->cleanup_calls == 1);
      CHECK(first->net_side_effects() == 0);  // its cleanup undid its before
      CHECK(name_of(h.ctx.validated_state) == name_of(mutated));
      CHECK(h.ctx.rule_signature == Strings{"First", "Mutator"});
      CHECK(h.ctx.finalization_signature == Strings{"Mutator"});
    }
  }
}

}  // namespace
}  // namespace runctl::testing
