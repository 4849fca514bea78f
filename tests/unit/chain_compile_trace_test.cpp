// The chain runner (lib/engine/chain.cpp), compiling a chain for one transition, and the trace of a
// run. A case named in words after a test of Prefect's tests/server/orchestration/test_rules.py
// pins what that test pins.
#include "engine/chain.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "engine_fixture.hpp"
#include "util/error.hpp"

namespace runctl::testing {
namespace {

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
