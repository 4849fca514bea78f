// The chain runner (lib/engine/chain.cpp), universal transforms: they fire on every transition,
// nullified ones too, never after an error. A case named in words after a test of Prefect's
// tests/server/orchestration/test_rules.py pins what that test pins.
#include "engine/chain.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "engine_fixture.hpp"
#include "util/error.hpp"

namespace runctl::testing {
namespace {

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

}  // namespace
}  // namespace runctl::testing
