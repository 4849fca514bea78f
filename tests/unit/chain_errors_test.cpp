// The chain runner (lib/engine/chain.cpp), errors raised by hooks: a before hook's error aborts and
// invalidates later rules; after, cleanup and transform errors escape. A case named in words after
// a test of Prefect's tests/server/orchestration/test_rules.py pins what that test pins.
#include "engine/chain.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "engine_fixture.hpp"
#include "util/error.hpp"

namespace runctl::testing {
namespace {

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

}  // namespace
}  // namespace runctl::testing
