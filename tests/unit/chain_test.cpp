// The chain runner (lib/engine/chain.cpp): rule entry and exit, before-hook errors, transforms,
// validation, exit errors, copies handed to hooks, compiling, tracing. A case named in words
// after a test of Prefect's tests/server/orchestration/test_rules.py pins what that test pins.
#include "engine/chain.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "engine_fixture.hpp"
#include "util/error.hpp"

namespace runctl::testing {
namespace {

using Strings = std::vector<std::string>;

const StateType kPending = StateType::kPending;
const StateType kRunning = StateType::kRunning;
const StateType kFailed = StateType::kFailed;
const StateType kCompleted = StateType::kCompleted;

std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  }
}

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

// ---------------------------------------------------------------------------------------------
// Errors in a rule's before hook

const char* const kAbortPrefix = "Aborting orchestration due to error in ";

TEST_CASE("rules that raise exceptions during before_transition") {
  for (MaybeType initial : all_maybe_types()) {
    for (StateType proposed : all_types()) {
      CAPTURE(name_of(initial));
      CAPTURE(name_of(proposed));
      Harness h(initial, proposed);
      auto minimal = make_rule("Minimal");
      auto raiser = make_rule("RaisingRule");
      raiser->on_before = [](RuleHook&) { throw std::runtime_error("Test!"); };
      const auto out = h.run_chain({entry(minimal), entry(raiser)});
      CHECK(h.ctx.proposed_state == nullptr);
      CHECK(minimal->before == 1);
      CHECK(minimal->after == 0);
      CHECK(minimal->cleanup_calls == 1);
      // The raiser kept its intended to-type while the proposal became NONE: it fizzles too.
      CHECK(raiser->before == 1);
      CHECK(raiser->after == 0);
      CHECK(raiser->cleanup_calls == 1);
      CHECK(name_of(h.ctx.response_status) == "ABORT");
      const std::string reason = std::string(kAbortPrefix) + "RaisingRule: !Test!";
      CHECK(h.ctx.response_details == ResponseDetails::abort(reason));
      CHECK(h.ctx.orchestration_error == reason);
      CHECK(h.ctx.rule_signature == Strings{"Minimal"});  // the raiser is not signed
      CHECK(h.ctx.finalization_signature.empty());
      CHECK_FALSE(out.escaped);  // swallowed; the caller reports it via `error`
      CHECK(out.error == reason);
      // Nothing was proposed any more: validation keeps the run's state.
      CHECK(name_of(h.ctx.validated_state) == name_of(initial));
      CHECK(h.services.written_ids.empty());
    }
  }
}

TEST_CASE("before error: remaining actions skipped, later rules invalid, transforms skip after") {
  Harness h(kPending, kRunning);
  auto earlier = make_rule("Earlier");
  bool reached_after_throw = false;
  auto raiser = make_rule("Raiser");
  raiser->on_before = [&](RuleHook&) {
    throw HookError("boom");
    reached_after_throw = true;  // never: the hook stops at the error
  };
  auto later = make_rule("Later");
  auto transform = make_transform("T");
  const auto out = h.run_chain({entry(earlier), entry(raiser), entry(later)}, {entry(transform)});
  CHECK_FALSE(reached_after_throw);
  CHECK(earlier->cleanup_calls == 1);
  CHECK(earlier->after == 0);
  CHECK(later->before + later->after + later->cleanup_calls == 0);
  // The transform is entered (before runs and signs) but skips its after hook.
  CHECK(transform->before == 1);
  CHECK(transform->after == 0);
  CHECK(h.ctx.rule_signature == Strings{"Earlier", "T"});
  CHECK(h.ctx.finalization_signature.empty());
  CHECK(out.error == std::string(kAbortPrefix) + "Raiser: !boom");
  CHECK(h.run.state_id == h.ctx.initial_state->id);
}

TEST_CASE("before error on a null proposal: no fizzle, after runs, later rules stay valid") {
  Harness h(kPending, std::nullopt);
  Strings journal;
  auto raiser = make_rule("Raiser", StateTypeSet::all(), StateTypeSet::all(), &journal);
  raiser->on_before = [](RuleHook&) { throw HookError("null boom"); };
  auto later = make_rule("Later", StateTypeSet::all(), StateTypeSet::all(), &journal);
  auto transform = make_transform("T", &journal);
  const auto out = h.run_chain({entry(raiser), entry(later)}, {entry(transform)});
  CHECK(journal ==
        Strings{"Raiser:before", "Later:before", "T:before", "Later:after", "Raiser:after"});
  CHECK(h.ctx.rule_signature == Strings{"Later", "T"});
  CHECK(h.ctx.finalization_signature == Strings{"Later", "Raiser"});
  CHECK(out.error == std::string(kAbortPrefix) + "Raiser: !null boom");
  CHECK(name_of(h.ctx.response_status) == "ABORT");
}

TEST_CASE("before error twice: the last reason wins") {
  // Only with a null proposal does a second rule stay valid after the first one raised.
  Harness h(kRunning, std::nullopt);
  auto first = make_rule("First");
  first->on_before = [](RuleHook&) { throw HookError("one"); };
  auto second = make_rule("Second");
  second->on_before = [](RuleHook&) { throw HookError("two"); };
  const auto out = h.run_chain({entry(first), entry(second)});
  const std::string reason = std::string(kAbortPrefix) + "Second: !two";
  CHECK(h.ctx.response_details == ResponseDetails::abort(reason));
  CHECK(h.ctx.orchestration_error == reason);
  CHECK(out.error == reason);
  CHECK(h.ctx.rule_signature.empty());
  CHECK(h.ctx.finalization_signature == Strings{"Second", "First"});
}

TEST_CASE("before error after a delay in the same hook: the rule does not fizzle") {
  SUBCASE("NONE in TO_STATES: after runs") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("DelayThenFail");
    rule->on_before = [](RuleHook& hook) {
      hook.delay_transition(3, "d");
      throw HookError("after delay");
    };
    h.run_chain({entry(rule)});
    CHECK(rule->after == 1);
    CHECK(rule->cleanup_calls == 0);
    CHECK(h.ctx.rule_signature.empty());
    CHECK(h.ctx.finalization_signature == Strings{"DelayThenFail"});
    CHECK(h.ctx.response_details ==
          ResponseDetails::abort(std::string(kAbortPrefix) + "DelayThenFail: !after delay"));
  }
  SUBCASE("NONE not in TO_STATES: invalid on exit, nothing runs") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("DelayThenFail", StateTypeSet::all(), StateTypeSet::all_types());
    rule->on_before = [](RuleHook& hook) {
      hook.delay_transition(3, "d");
      throw HookError("after delay");
    };
    h.run_chain({entry(rule)});
    CHECK(rule->after == 0);
    CHECK(rule->cleanup_calls == 0);
    CHECK(h.ctx.finalization_signature.empty());
  }
}

TEST_CASE("before error after a reject into a state: the rule fizzles and cleans up") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("RejectThenFail");
  rule->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(kFailed)), "r");
    throw HookError("after reject");
  };
  h.run_chain({entry(rule)});
  // to-type FAILED (set by the reject) but the proposal is now NONE.
  CHECK(rule->after == 0);
  CHECK(rule->cleanup_calls == 1);
  CHECK(h.ctx.finalization_signature.empty());
  CHECK(name_of(h.ctx.response_status) == "ABORT");
}

TEST_CASE("before error: the first rule's error invalidates every later rule") {
  Harness h(kPending, kRunning);
  auto raiser = make_rule("Raiser");
  raiser->on_before = [](RuleHook&) { throw HookError("x"); };
  auto b = make_rule("B");
  auto c = make_rule("C");
  h.run_chain({entry(raiser), entry(b), entry(c)});
  CHECK(b->before + c->before == 0);
  CHECK(raiser->cleanup_calls == 1);
}

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

// ---------------------------------------------------------------------------------------------
// Transforms

TEST_CASE("universal transforms are context managers: before and after once each") {
  Harness h(kRunning, kCompleted);
  auto t = make_transform("T");
  h.run_chain({}, {entry(t)});
  CHECK(t->before == 1);
  CHECK(t->after == 1);
}

TEST_CASE("universal transforms always fire on all transitions") {
  for (MaybeType initial : all_maybe_types()) {
    for (StateType proposed : all_types()) {
      CAPTURE(name_of(initial));
      CAPTURE(name_of(proposed));
      Harness h(initial, proposed);
      auto t = make_transform("T");
      auto body = make_transform("Body");
      body->on_before = [&](Context& c) {
        c.initial_state = h.state(third_type(initial, proposed));
      };
      h.run_chain({}, {entry(t), entry(body)});
      CHECK(t->before == 1);
      CHECK(t->after == 1);
    }
  }
}

TEST_CASE("universal transforms always fire on nullified transitions") {
  for (MaybeType initial : all_maybe_types()) {
    CAPTURE(name_of(initial));
    Harness h(initial, std::nullopt);
    auto t = make_transform("T");
    auto body = make_transform("Body");
    body->on_before = [&](Context& c) {
      c.initial_state = h.state(third_type(initial, std::nullopt));
    };
    h.run_chain({}, {entry(t), entry(body)});
    CHECK(t->before == 1);
    CHECK(t->after == 1);
  }
}

TEST_CASE("universal transforms never fire after_transition on errored transitions") {
  for (StateType initial : all_types()) {
    for (StateType proposed : all_types()) {
      CAPTURE(name_of(initial));
      CAPTURE(name_of(proposed));
      Harness h(initial, proposed);
      auto t = make_transform("T");
      auto body = make_transform("Body");
      body->on_before = [](Context& c) { c.orchestration_error = "errored"; };
      const auto out = h.run_chain({}, {entry(t), entry(body)});
      CHECK(t->before == 1);
      CHECK(t->after == 0);
      CHECK(h.ctx.finalization_signature.empty());
      CHECK(out.error == "errored");
    }
  }
}

TEST_CASE("transform before error escapes: nothing more entered, no validation, rules exit") {
  Harness h(kPending, kRunning);
  Strings journal;
  auto rule = make_rule("R", StateTypeSet::all(), StateTypeSet::all(), &journal);
  auto t1 = make_transform("T1", &journal);
  auto t2 = make_transform("T2", &journal);
  t2->on_before = [](Context&) { throw HookError("transform broke"); };
  auto t3 = make_transform("T3", &journal);
  StatePtr validated_seen_by_rule = h.state(kFailed);  // overwritten by R's after hook
  rule->on_after = [&](RuleHook& hook) { validated_seen_by_rule = hook.context().validated_state; };
  const std::string initial_id = *h.run.state_id;
  const auto out = h.run_chain({entry(rule)}, {entry(t1), entry(t2), entry(t3)});

  REQUIRE(out.escaped);
  CHECK(message_of(out.escaped) == "transform broke");
  CHECK(out.error == "transform broke");
  // T3 never entered; T2 raised in its before, so it is neither signed nor exited.
  CHECK(journal == Strings{"R:before", "T1:before", "T2:before", "T1:after", "R:after"});
  CHECK(h.ctx.rule_signature == Strings{"R", "T1"});
  CHECK(h.ctx.finalization_signature == Strings{"T1", "R"});
  // Validation was skipped: nothing written, no validated state, the run keeps its state.
  CHECK(h.ctx.validated_state == nullptr);
  CHECK(validated_seen_by_rule == nullptr);
  CHECK(h.services.written_ids.empty());
  CHECK(h.run.state_id == initial_id);
  CHECK_FALSE(h.ctx.orchestration_error.has_value());
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
}

// ---------------------------------------------------------------------------------------------
// Exceptions during exit

TEST_CASE("after error: the hook stops, is not signed, outer exits still run") {
  Harness h(kPending, kRunning);
  Strings journal;
  auto outer = make_rule("Outer", StateTypeSet::all(), StateTypeSet::all(), &journal);
  auto inner = make_rule("Inner", StateTypeSet::all(), StateTypeSet::all(), &journal);
  bool continued = false;
  inner->on_after = [&](RuleHook&) {
    throw HookError("inner failed");
    continued = true;
  };
  auto t = make_transform("T", &journal);
  const auto out = h.run_chain({entry(outer), entry(inner)}, {entry(t)});
  CHECK_FALSE(continued);
  CHECK(journal == Strings{"Outer:before", "Inner:before", "T:before", "T:after", "Inner:after",
                           "Outer:after"});
  CHECK(h.ctx.finalization_signature == Strings{"T", "Outer"});
  REQUIRE(out.escaped);
  CHECK(out.error == "inner failed");
  // Not an orchestration error: the status is untouched and validation had happened.
  CHECK_FALSE(h.ctx.orchestration_error.has_value());
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
}

TEST_CASE("after errors twice: the outermost one wins") {
  Harness h(kPending, kRunning);
  auto outer = make_rule("Outer");
  outer->on_after = [](RuleHook&) { throw HookError("outer"); };
  auto inner = make_rule("Inner");
  inner->on_after = [](RuleHook&) { throw HookError("inner"); };
  const auto out = h.run_chain({entry(outer), entry(inner)});
  REQUIRE(out.escaped);
  CHECK(message_of(out.escaped) == "outer");
  CHECK(out.error == "outer");
  CHECK(h.ctx.rule_signature == Strings{"Outer", "Inner"});
  CHECK(h.ctx.finalization_signature.empty());
}

TEST_CASE("cleanup error escapes, outer rules still clean up") {
  Harness h(kPending, kRunning);
  Strings journal;
  auto outer = make_rule("Outer", StateTypeSet::all(), StateTypeSet::all(), &journal);
  auto middle = make_rule("Middle", StateTypeSet::all(), StateTypeSet::all(), &journal);
  middle->on_cleanup = [](RuleHook&) { throw HookError("cleanup failed"); };
  auto mutator = make_rule("Mutator");
  mutator->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(StateType::kPaused)), "pause");
  };
  const auto out = h.run_chain({entry(outer), entry(middle), entry(mutator)});
  CHECK(journal == Strings{"Outer:before", "Middle:before", "Middle:cleanup", "Outer:cleanup"});
  CHECK(h.ctx.finalization_signature == Strings{"Mutator"});
  CHECK(out.error == "cleanup failed");
  CHECK(name_of(h.ctx.response_status) == "REJECT");
}

TEST_CASE("transform after error escapes, it is not signed and rules still exit") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("R");
  auto t = make_transform("T");
  t->on_after = [](Context&) { throw HookError("transform after broke"); };
  const auto out = h.run_chain({entry(rule)}, {entry(t)});
  CHECK(out.error == "transform after broke");
  CHECK(rule->after == 1);
  CHECK(h.ctx.finalization_signature == Strings{"R"});
}

TEST_CASE("an exit error is reported rather than an earlier before-hook error") {
  // Prefect re-raises orchestration_error only if the stack unwound cleanly.
  Harness h(kPending, std::nullopt);
  auto outer = make_rule("Outer");
  outer->on_after = [](RuleHook&) { throw HookError("after failed"); };
  auto raiser = make_rule("Raiser");
  raiser->on_before = [](RuleHook&) { throw HookError("before failed"); };
  const auto out = h.run_chain({entry(outer), entry(raiser)});
  CHECK(h.ctx.orchestration_error == std::string(kAbortPrefix) + "Raiser: !before failed");
  CHECK(out.error == "after failed");
}

// ---------------------------------------------------------------------------------------------
// Copies handed to rule hooks (OrchestrationContext.safe_copy, entry_context, exit_context)

TEST_CASE("context is protected from mutation at all costs") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Meddler");
  MaybeType real_initial_inside, real_proposed_inside;
  rule->on_before = [](RuleHook& hook) {
    hook.context().initial_state->type = StateType::kCancelled;
    hook.context().proposed_state->type = kCompleted;
    hook.context().proposed_state->name = "Meddled";
  };
  rule->on_after = [](RuleHook& hook) {
    hook.context().validated_state->type = StateType::kScheduled;
  };
  auto t = make_transform("Observer");
  t->on_before = [&](Context& c) {
    real_initial_inside = c.initial_type();
    real_proposed_inside = c.proposed_type();
  };
  h.run_chain({entry(rule)}, {entry(t)});
  CHECK(name_of(real_initial_inside) == "PENDING");
  CHECK(name_of(real_proposed_inside) == "RUNNING");
  CHECK(name_of(h.ctx.initial_state) == "PENDING");
  CHECK(name_of(h.ctx.proposed_state) == "RUNNING");
  CHECK(h.ctx.proposed_state->name == "Running");
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
  CHECK(rule->after == 1);  // no fizzle: the real transition never changed
}

TEST_CASE("copies share state_details: a details field edited through a copy is real") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("CacheKeySetter");
  rule->on_before = [](RuleHook& hook) {
    hook.context().proposed_state->details->cache_key = "key-1";
  };
  h.run_chain({entry(rule)});
  CHECK(h.ctx.proposed_state->details->cache_key == "key-1");
  CHECK(h.ctx.validated_state->details->cache_key == "key-1");
}

TEST_CASE("copies: replacing the details object wholesale only changes the copy") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Replacer");
  rule->on_before = [](RuleHook& hook) {
    auto fresh = std::make_shared<StateDetails>();
    fresh->cache_key = "only-on-the-copy";
    hook.context().proposed_state->details = fresh;
  };
  h.run_chain({entry(rule)});
  CHECK_FALSE(h.ctx.proposed_state->details->cache_key.has_value());
}

TEST_CASE("copies share data: a field edited inside the copy's data is real") {
  Harness h(kPending, kRunning);
  h.ctx.proposed_state->data = std::make_shared<Json>(Json{{"value", 1}});
  auto rule = make_rule("DataEditor");
  rule->on_before = [](RuleHook& hook) { (*hook.context().proposed_state->data)["value"] = 2; };
  h.run_chain({entry(rule)});
  CHECK((*h.ctx.proposed_state->data)["value"] == 2);
}

TEST_CASE("copies: the run is the real one") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Counter");
  rule->on_before = [](RuleHook& hook) { hook.context().run.run_count = 7; };
  h.run_chain({entry(rule)});
  CHECK(h.run.run_count == 7);
}

TEST_CASE("rules can pass parameters via the context") {
  Harness h(kPending, kRunning);
  auto a = make_rule("A");
  a->on_before = [](RuleHook& hook) {
    hook.update_context_parameters("a special message", "hello!");
    // Written to the copy only: lost.
    hook.context().parameters["a special message"] = "I can't hear you";
    hook.context().parameters["copy only"] = true;
  };
  Json seen_by_b;
  auto b = make_rule("B");
  b->on_before = [&](RuleHook& hook) { seen_by_b = hook.context().parameters; };
  h.run_chain({entry(a), entry(b)});
  CHECK(b->before == 1);
  CHECK(seen_by_b["a special message"] == "hello!");
  CHECK_FALSE(seen_by_b.contains("copy only"));
  CHECK(h.ctx.parameters == Json{{"a special message", "hello!"}});
}

// DEVIATION (lib/engine/rule.cpp, RuleHook::fill_missing(): ContextCopy::parameters is a Json
// value, i.e. a deep copy): Prefect's safe_copy does `parameters = self.parameters.copy()`, a
// shallow dict copy, so a container stored in the parameters is shared with the real context and
// editing it in place through the copy is seen by later rules. runctl loses the edit. Only
// top-level assignment through the copy is meant to be lost.
TEST_CASE("copies: parameters are a shallow copy, nested containers are shared" *
          doctest::may_fail()) {
  Harness h(kPending, kRunning);
  auto a = make_rule("A");
  a->on_before = [](RuleHook& hook) { hook.update_context_parameters("list", Json::array({1})); };
  auto b = make_rule("B");
  b->on_before = [](RuleHook& hook) { hook.context().parameters["list"].push_back(2); };
  h.run_chain({entry(a), entry(b)});
  CHECK(h.ctx.parameters["list"] == Json::array({1, 2}));
}

// ---------------------------------------------------------------------------------------------
// Validation

TEST_CASE("contexts validate proposed states") {
  for (MaybeType initial : all_maybe_types()) {
    for (MaybeType proposed : all_maybe_types()) {
      CAPTURE(name_of(initial));
      CAPTURE(name_of(proposed));
      Harness h(initial, proposed);
      const std::optional<std::string> state_id_before = h.run.state_id;
      h.run_chain({});
      CHECK(name_of(h.ctx.validated_state) == name_of(proposed ? proposed : initial));
      CHECK(name_of(h.ctx.response_status) == "ACCEPT");
      if (proposed) {
        CHECK(h.ctx.validated_state->id == h.ctx.proposed_state->id);
        CHECK(h.run.state_id == h.ctx.proposed_state->id);
        CHECK(h.services.written_ids == Strings{h.ctx.proposed_state->id});
      } else {
        CHECK(h.run.state_id == state_id_before);
        CHECK(h.services.written_ids.empty());
      }
    }
  }
}

TEST_CASE("context validation sets run state: the run's state pointer") {
  Harness h(kPending, kRunning);
  REQUIRE(h.run.state_id != h.ctx.proposed_state->id);
  h.run_chain({});
  CHECK(h.run.state_id == h.ctx.proposed_state->id);
  CHECK(h.ctx.validated_state->id == h.ctx.proposed_state->id);
  CHECK(h.ctx.validated_state->timestamp == h.ctx.proposed_state->timestamp);
}

TEST_CASE("validation with a null proposal: validated is a copy of the current state") {
  Harness h(kPending, std::nullopt);
  h.ctx.initial_state->details->cache_key = "k";
  h.run_chain({});
  REQUIRE(h.ctx.validated_state != nullptr);
  CHECK(h.ctx.validated_state != h.ctx.initial_state);  // a copy, not the same object
  CHECK(h.ctx.validated_state->id == h.ctx.initial_state->id);
  CHECK(h.ctx.validated_state->name == "Pending");
  CHECK(h.ctx.validated_state->details->cache_key == "k");
  CHECK(h.run.state_id == h.ctx.initial_state->id);
}

TEST_CASE("validation with a null proposal and no run state: validated is null") {
  Harness h(std::nullopt, std::nullopt);
  auto rule = make_rule("R");
  h.run_chain({entry(rule)});
  CHECK(h.ctx.validated_state == nullptr);
  CHECK_FALSE(h.run.state_id.has_value());
  CHECK(rule->after == 1);
}

TEST_CASE("validated state is independent of the proposal object") {
  Harness h(kPending, kRunning);
  h.run_chain({});
  h.ctx.proposed_state->details->cache_key = "later";
  CHECK_FALSE(h.ctx.validated_state->details->cache_key.has_value());
}

TEST_CASE("context validation writes result artifact: validated data equals the proposal's") {
  Harness h(kPending, kRunning);
  h.ctx.proposed_state->data = std::make_shared<Json>(Json{{"value", "some special data"}});
  Json written;
  h.services.on_write = [&](const Run& run, State& s) {
    CHECK(run.id == h.run.id);
    written = s.data ? *s.data : Json();
  };
  h.run_chain({});
  CHECK(written == Json{{"value", "some special data"}});
  REQUIRE(h.ctx.validated_state->data != nullptr);
  CHECK(*h.ctx.validated_state->data == Json{{"value", "some special data"}});
}

TEST_CASE("context validation does not write artifact when no result") {
  Harness h(kPending, kRunning);
  h.run_chain({});
  CHECK(h.ctx.validated_state->data == nullptr);
}

TEST_CASE(
    "context validation writes result artifact with metadata: "
    "the artifact keys are stripped") {
  Harness h(kPending, kRunning);
  h.ctx.proposed_state->data = std::make_shared<Json>(
      Json{{"value", "some special data"}, {"artifact_type", "a special type"}});
  h.services.on_write = [](const Run&, State& s) { s.data->erase("artifact_type"); };
  h.run_chain({});
  REQUIRE(h.ctx.validated_state->data != nullptr);
  CHECK(*h.ctx.validated_state->data == Json{{"value", "some special data"}});
}

TEST_CASE("validation without services still validates") {
  Harness h(kPending, kRunning);
  h.ctx.services = nullptr;
  h.run_chain({});
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
  CHECK(h.run.state_id == h.ctx.proposed_state->id);
}

TEST_CASE("context state validation encounters exception: ABORT 'Error validating state'") {
  Harness h(kPending, kRunning);
  h.services.on_write = [](const Run&, State&) { throw std::runtime_error("One time error!"); };
  auto rule = make_rule("Minimal");
  auto t = make_transform("T");
  const std::string initial_id = *h.run.state_id;
  const auto out = h.run_chain({entry(rule)}, {entry(t)});
  CHECK(rule->before == 1);
  CHECK(rule->after == 0);
  CHECK(rule->cleanup_calls == 1);  // the proposal was nulled: the rule fizzled
  CHECK(name_of(h.ctx.response_status) == "ABORT");
  CHECK(h.ctx.response_details ==
        ResponseDetails::abort(std::string("Error validating state: One time error!")));
  CHECK(h.ctx.proposed_state == nullptr);
  CHECK(h.ctx.validated_state == nullptr);
  CHECK(h.run.state_id == initial_id);
  // Not an orchestration error: transforms still run after, nothing is re-raised.
  CHECK_FALSE(h.ctx.orchestration_error.has_value());
  CHECK(t->after == 1);
  CHECK_FALSE(out.escaped);
  CHECK_FALSE(out.error.has_value());
}

TEST_CASE("context state validation encounters sqlite busy exception: a retryable error escapes") {
  Harness h(kPending, kRunning);
  h.services.on_write = [](const Run&, State&) { throw RetryableError("database is locked"); };
  auto rule = make_rule("Minimal");
  const auto out = h.run_chain({entry(rule)});
  REQUIRE(out.escaped);
  CHECK_THROWS_AS(std::rethrow_exception(out.escaped), RetryableError);
  CHECK(out.error == "database is locked");
  CHECK(rule->before == 1);
  CHECK(rule->after == 0);
  CHECK(rule->cleanup_calls == 1);
  CHECK(h.ctx.proposed_state == nullptr);
  CHECK(h.ctx.validated_state == nullptr);
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
}

TEST_CASE("a store constraint error (runctl::Error) escapes, as Prefect re-raises IntegrityError") {
  // What the store raises for a duplicate (run, timestamp) state row: Prefect's HTTP 409.
  Harness h(kPending, kRunning);
  h.services.on_write = [](const Run&, State&) {
    throw Error(ErrorKind::kBadData, "run already has a state at that timestamp");
  };
  auto rule = make_rule("R");
  const auto out = h.run_chain({entry(rule)});
  REQUIRE(out.escaped);
  CHECK(out.error == "run already has a state at that timestamp");
  CHECK(h.ctx.proposed_state == nullptr);
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");  // not turned into an ABORT
  CHECK(rule->cleanup_calls == 1);
}

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

// ---------------------------------------------------------------------------------------------
// Compiling

TEST_CASE("compile_transition_rules keeps priority order, drops non-matching rules") {
  std::vector<PolicyEntry> policy = {
      entry(make_rule("A", StateTypeSet{kPending}, StateTypeSet{kRunning})),
      entry(make_rule("B", StateTypeSet{kRunning}, StateTypeSet{kRunning})),
      entry(make_transform("T")),
      entry(make_rule("C", StateTypeSet::all(), StateTypeSet{kRunning, kFailed})),
      entry(make_rule("D", StateTypeSet{kPending}, StateTypeSet{kFailed})),
  };
  auto names = [](const std::vector<const PolicyEntry*>& compiled) {
    Strings out;
    for (const PolicyEntry* e : compiled) out.push_back(e->name());
    return out;
  };
  CHECK(names(compile_transition_rules(policy, kPending, kRunning)) == Strings{"A", "T", "C"});
  CHECK(names(compile_transition_rules(policy, kPending, kFailed)) == Strings{"T", "C", "D"});
  // Transforms qualify for every transition, NONE -> NONE included.
  CHECK(names(compile_transition_rules(policy, std::nullopt, std::nullopt)) == Strings{"T"});
  // The pointers are the policy's own entries.
  CHECK(compile_transition_rules(policy, kPending, kRunning).front() == &policy[0]);
}

TEST_CASE("compile_transition_rules traces every entry as compiled or skipped") {
  std::vector<PolicyEntry> policy = {
      entry(make_rule("A", StateTypeSet{kPending}, StateTypeSet::all())),
      entry(make_rule("B", StateTypeSet{kRunning}, StateTypeSet::all())),
  };
  Trace trace;
  compile_transition_rules(policy, kPending, kRunning, &trace);
  REQUIRE(trace.size() == 2);
  CHECK(trace[0].step == "compile");
  CHECK(trace[0].entry == "A");
  CHECK(trace[0].outcome == "compiled");
  CHECK(trace[1].entry == "B");
  CHECK(trace[1].outcome == "skipped");
  CHECK(trace[1].why.find("PENDING") != std::string::npos);
}

TEST_CASE("orchestrate builds every rule with the intended transition, fixed up front") {
  // A rule for PENDING -> FAILED is not compiled even if an earlier rule rejects into FAILED.
  Harness h(kPending, kRunning);
  auto rejector = make_rule("Rejector");
  rejector->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(kFailed)), "");
  };
  auto to_failed = make_rule("ToFailed", StateTypeSet{kPending}, StateTypeSet{kFailed});
  h.run_chain({entry(rejector), entry(to_failed)});
  CHECK(to_failed->before == 0);
}

// ---------------------------------------------------------------------------------------------
// Trace

TEST_CASE("trace: records compile, enter, hook, validate and exit events") {
  Harness h(kPending, kRunning);
  Trace trace;
  h.ctx.trace = &trace;
  auto rule = make_rule("R");
  rule->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(kFailed)), "no");
  };
  auto skipped = make_rule("Skipped", StateTypeSet{kCompleted});
  auto t = make_transform("T");
  h.run_chain({entry(rule), entry(skipped)}, {entry(t)});

  auto find = [&](const std::string& step, const std::string& entry_name,
                  const std::string& hook = "") -> const TraceEvent* {
    for (const TraceEvent& e : trace)
      if (e.step == step && e.entry == entry_name && e.hook == hook) return &e;
    return nullptr;
  };
  REQUIRE(find("compile", "R"));
  CHECK(find("compile", "R")->outcome == "compiled");
  REQUIRE(find("compile", "Skipped"));
  CHECK(find("compile", "Skipped")->outcome == "skipped");
  REQUIRE(find("enter", "R"));
  CHECK(find("enter", "R")->outcome == "valid");
  const TraceEvent* before = find("hook", "R", "before");
  REQUIRE(before);
  CHECK(before->micros >= 0);
  CHECK(before->outcome == "ok");
  CHECK(before->changes["status"] == "REJECT");
  CHECK(before->changes["proposed_state"]["type"] == "FAILED");
  CHECK(before->changes["details"]["reason"] == "no");
  REQUIRE(find("hook", "T", "before"));
  CHECK(find("hook", "T", "before")->changes.empty());  // T changed nothing
  REQUIRE(find("validate", ""));
  CHECK(find("validate", "")->outcome == "validated");
  REQUIRE(find("exit", "R"));
  CHECK(find("exit", "R")->outcome == "after");
  REQUIRE(find("exit", "T"));
  REQUIRE(find("hook", "R", "after"));
  CHECK(find("hook", "R", "after")->micros >= 0);

  // Order: compile events first, validation after every hook of entry, exits last.
  auto index = [&](const TraceEvent* e) { return e - trace.data(); };
  CHECK(index(find("compile", "Skipped")) < index(find("enter", "R")));
  CHECK(index(find("hook", "T", "before")) < index(find("validate", "")));
  CHECK(index(find("validate", "")) < index(find("exit", "T")));
  CHECK(index(find("exit", "T")) < index(find("exit", "R")));
}

TEST_CASE("trace: invalid, fizzled and raising hooks are recorded with a reason") {
  Harness h(kPending, kRunning);
  Trace trace;
  h.ctx.trace = &trace;
  auto fizzler = make_rule("Fizzler");
  auto raiser = make_rule("Raiser");
  raiser->on_before = [](RuleHook&) { throw HookError("bad"); };
  auto invalid = make_rule("Invalid");
  h.run_chain({entry(fizzler), entry(raiser), entry(invalid)});
  bool saw_invalid = false, saw_fizzled = false, saw_raised = false;
  for (const TraceEvent& e : trace) {
    if (e.step == "enter" && e.entry == "Invalid" && e.outcome == "invalid") saw_invalid = true;
    if (e.step == "exit" && e.entry == "Fizzler" && e.outcome == "fizzled") saw_fizzled = true;
    if (e.step == "hook" && e.entry == "Raiser" && e.outcome == "raised" && e.why == "bad")
      saw_raised = true;
  }
  CHECK(saw_invalid);
  CHECK(saw_fizzled);
  CHECK(saw_raised);
}

TEST_CASE("trace: off by default, and tracing does not change the outcome") {
  auto run = [](Trace* trace) {
    Harness h(kPending, kRunning);
    h.ctx.trace = trace;
    auto rule = make_rule("R");
    rule->on_before = [](RuleHook& hook) { hook.delay_transition(9, "later"); };
    h.run_chain({entry(rule)});
    return std::make_pair(h.ctx.response_details, h.ctx.finalization_signature);
  };
  Trace untouched;
  const auto without = run(nullptr);
  const auto with = run(&untouched);
  CHECK(without == with);
  CHECK_FALSE(untouched.empty());
  CHECK(Context{}.trace == nullptr);
}

}  // namespace
}  // namespace runctl::testing
