// Context::decided_by (lib/engine/chain.cpp): the entry whose hook set the response or put
// another state in the proposal's place, which set-state, apply and the log report as
// `decided_by`; and the signature counts of the text output.
#include <doctest/doctest.h>

#include "engine/chain.hpp"
#include "engine_fixture.hpp"

namespace runctl::testing {
namespace {

std::string decider(const Context& c) {
  return c.decided_by ? *c.decided_by : "(none)";
}

TEST_CASE("decided_by: none when every entry accepts") {
  Harness h(kPending, kRunning);
  h.run_chain({entry(make_rule("A")), entry(make_rule("B"))}, {entry(make_transform("T"))});
  CHECK(decider(h.ctx) == "(none)");
  CHECK(h.ctx.rule_signature_transforms == 1);
  CHECK(h.ctx.finalization_signature_transforms == 1);
  CHECK(h.ctx.rule_signature.size() == 3);
}

TEST_CASE("decided_by: the rule that rejected, not a later one that only signed") {
  Harness h(kPending, kRunning);
  auto rejector = make_rule("Rejector");
  rejector->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(kRunning, "Retrying")), "same type");
  };
  h.run_chain({entry(make_rule("First")), entry(rejector), entry(make_rule("Later"))});
  CHECK(decider(h.ctx) == "Rejector");
}

TEST_CASE("decided_by: the last entry that changed the response wins") {
  Harness h(kPending, kRunning);
  auto delays = make_rule("Delays");
  delays->on_before = [](RuleHook& hook) { hook.delay_transition(5, "wait"); };
  auto aborts = make_transform("Aborts");
  aborts->on_before = [](Context& c) {
    c.proposed_state = nullptr;
    c.response_status = SetStateStatus::kAbort;
    c.response_details = ResponseDetails::abort("stop");
  };
  h.run_chain({entry(delays)}, {entry(aborts)});
  CHECK(decider(h.ctx) == "Aborts");
}

TEST_CASE("decided_by: a rename is not a decision, a replaced proposal is") {
  SUBCASE("rename") {
    Harness h(kPending, kRunning);
    auto renames = make_rule("Renames");
    renames->on_before = [](RuleHook& hook) { hook.rename_state("Rerunning"); };
    auto transform = make_transform("RenamesToo");
    transform->on_before = [](Context& c) { c.proposed_state->name = "Again"; };
    h.run_chain({entry(renames)}, {entry(transform)});
    CHECK(decider(h.ctx) == "(none)");
  }
  SUBCASE("replaced by a transform, status unchanged") {
    Harness h(kPending, kRunning);
    auto replaces = make_transform("Replaces");
    replaces->on_before = [](Context& c) {
      c.proposed_state = make_state(proposal(kFailed), c.uuids->next(), c.now());
    };
    h.run_chain({}, {entry(replaces)});
    CHECK(decider(h.ctx) == "Replaces");
  }
}

TEST_CASE("decided_by: a before hook that raised aborts in its rule's name") {
  Harness h(kPending, kRunning);
  auto raises = make_rule("Raises");
  raises->on_before = [](RuleHook&) { throw HookError("boom"); };
  h.run_chain({entry(make_rule("First")), entry(raises)});
  CHECK(name_of(h.ctx.response_status) == "ABORT");
  CHECK(decider(h.ctx) == "Raises");
}

}  // namespace
}  // namespace runctl::testing
