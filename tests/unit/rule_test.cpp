// The helpers a rule hook may call (lib/engine/rule.cpp): reject / delay / abort with their
// guards and error texts, rename, parameters, new_state, record. Also make_state and State copies
// (lib/engine/state.cpp), which the helpers build on. A case named in words after a test of
// Prefect's tests/server/orchestration/test_rules.py pins what that test pins.
#include "engine/rule.hpp"

#include <doctest/doctest.h>

#include "engine_fixture.hpp"

namespace runctl::testing {
namespace {

const char* const kAlreadyValidated = "The transition is already validated";
const char* const kNoStateToKeep =
    "The current run has no state; this transition cannot be rejected without providing a new "
    "state.";

TEST_CASE("hook_name") {
  CHECK(hook_name(HookName::kBefore) == "before");
  CHECK(hook_name(HookName::kAfter) == "after");
  CHECK(hook_name(HookName::kCleanup) == "cleanup");
}

// ---------------------------------------------------------------------------------------------
// reject_transition

TEST_CASE("context will mutate if asked politely (reject with a re-typed copy)") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    Harness h(kPending, kRunning, kind);
    auto rule = make_rule("Politely");
    rule->on_before = [](RuleHook& hook) {
      auto mutated = hook.context().proposed_state;
      mutated->type = kCompleted;
      hook.reject_transition(mutated, "heroes ask permission");
    };
    h.run_chain({entry(rule)});
    CHECK(name_of(h.ctx.proposed_state) == "COMPLETED");
    CHECK(name_of(h.ctx.validated_state) == "COMPLETED");
    CHECK(h.ctx.validated_state->name == "Running");  // only the type was changed
    CHECK(name_of(h.ctx.response_status) == "REJECT");
    CHECK(h.ctx.response_details == ResponseDetails::reject("heroes ask permission"));
    CHECK(rule->after == 1);
  }
}

TEST_CASE("reject with a state: the proposal becomes that very object") {
  Harness h(kPending, kRunning);
  StatePtr replacement;
  auto rule = make_rule("R");
  rule->on_before = [&](RuleHook& hook) {
    replacement = hook.new_state(proposal(StateType::kFailed, "Nope"));
    hook.reject_transition(replacement, std::nullopt);
  };
  h.run_chain({entry(rule)});
  CHECK(h.ctx.proposed_state == replacement);
  CHECK(h.ctx.validated_state->name == "Nope");
  CHECK(h.run.state_id == replacement->id);
  CHECK(h.ctx.response_details == ResponseDetails::reject(std::nullopt));
}

TEST_CASE("context will not mutate if asked too late") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    Harness h(kPending, kRunning, kind);
    auto rule = make_rule("TooLate");
    rule->on_after = [](RuleHook& hook) {
      auto mutated = hook.context().validated_state;
      mutated->type = kCompleted;
      hook.reject_transition(mutated, "heroes ask permission");
    };
    const auto out = h.run_chain({entry(rule)});
    REQUIRE(out.escaped);
    CHECK_THROWS_WITH_AS(std::rethrow_exception(out.escaped), kAlreadyValidated, HookError);
    CHECK(name_of(h.ctx.validated_state) == "RUNNING");
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(h.ctx.finalization_signature.empty());  // the raising after hook is not signed
  }
}

TEST_CASE("reject/delay/abort in cleanup after a successful validation raise the guard") {
  Harness h(kPending, kRunning);
  auto fizzler = make_rule("Fizzler");
  fizzler->on_cleanup = [](RuleHook& hook) { hook.abort_transition("too late"); };
  auto mutator = make_rule("Mutator");
  mutator->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(StateType::kFailed)), "fail it");
  };
  const auto out = h.run_chain({entry(fizzler), entry(mutator)});
  CHECK(fizzler->cleanup_calls == 1);
  CHECK(out.error == kAlreadyValidated);
  CHECK(name_of(h.ctx.response_status) == "REJECT");  // the abort did not go through
}

TEST_CASE("guards allow mutation in after hooks when validation produced no state") {
  SUBCASE("reject with a state: status and proposal change, nothing is written") {
    Harness h(std::nullopt, std::nullopt);
    auto rule = make_rule("LateRejector");
    rule->on_after = [](RuleHook& hook) {
      hook.reject_transition(hook.new_state(proposal(kPending)), "late");
    };
    const auto out = h.run_chain({entry(rule)});
    CHECK_FALSE(out.error.has_value());
    CHECK(name_of(h.ctx.response_status) == "REJECT");
    CHECK(h.ctx.response_details == ResponseDetails::reject("late"));
    CHECK(h.ctx.validated_state == nullptr);
    CHECK_FALSE(h.run.state_id.has_value());
    CHECK(h.ctx.finalization_signature == Strings{"LateRejector"});
  }
  SUBCASE("delay") {
    Harness h(std::nullopt, std::nullopt);
    auto rule = make_rule("LateDelayer");
    rule->on_after = [](RuleHook& hook) { hook.delay_transition(5, "later"); };
    const auto out = h.run_chain({entry(rule)});
    CHECK_FALSE(out.error.has_value());
    CHECK(h.ctx.response_details == ResponseDetails::wait(5, "later"));
  }
  SUBCASE("abort") {
    Harness h(std::nullopt, std::nullopt);
    auto rule = make_rule("LateAborter");
    rule->on_after = [](RuleHook& hook) { hook.abort_transition("stop"); };
    const auto out = h.run_chain({entry(rule)});
    CHECK_FALSE(out.error.has_value());
    CHECK(h.ctx.response_details == ResponseDetails::abort("stop"));
  }
  SUBCASE("null reject: passes the guard, then fails for want of a state") {
    Harness h(std::nullopt, std::nullopt);
    auto rule = make_rule("LateNullRejector");
    rule->on_after = [](RuleHook& hook) { hook.reject_transition(nullptr, "late"); };
    const auto out = h.run_chain({entry(rule)});
    REQUIRE(out.escaped);
    CHECK_THROWS_WITH_AS(std::rethrow_exception(out.escaped), kNoStateToKeep, OrchestrationError);
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
    CHECK(h.ctx.finalization_signature.empty());
  }
}

TEST_CASE("guards allow mutation in after hooks when validation never ran") {
  // A transform's before hook raised: validation is skipped, validated_state stays null.
  Harness h(kPending, kRunning);
  auto rule = make_rule("R");
  rule->on_after = [](RuleHook& hook) { hook.delay_transition(30, "retry later"); };
  auto broken = make_transform("Broken");
  broken->on_before = [](Context&) { throw HookError("transform broke"); };
  const auto out = h.run_chain({entry(rule)}, {entry(broken)});
  CHECK(out.error == "transform broke");  // the transform's error, not the guard's
  CHECK(h.ctx.response_details == ResponseDetails::wait(30, "retry later"));
  CHECK(h.ctx.proposed_state == nullptr);
}

// ---------------------------------------------------------------------------------------------
// Null rejections

TEST_CASE("null rejects fizzle all prior rules") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    for (StateType initial : all_types()) {
      for (StateType proposed : all_types()) {
        CAPTURE(kind_name(kind));
        CAPTURE(name_of(initial));
        CAPTURE(name_of(proposed));
        Harness h(initial, proposed, kind);
        auto minimal = make_rule("Minimal");
        auto rejector = make_rule("NullRejector");
        rejector->on_before = [](RuleHook& hook) { hook.reject_transition(nullptr, "its okay"); };
        h.run_chain({entry(minimal), entry(rejector)});
        CHECK(minimal->after == 0);
        CHECK(minimal->cleanup_calls == 1);
        CHECK(minimal->net_side_effects() == 0);
        CHECK(rejector->after == 1);  // valid, not fizzled
        CHECK(rejector->cleanup_calls == 0);
        CHECK(name_of(h.ctx.response_status) == "REJECT");
        CHECK(h.ctx.response_details == ResponseDetails::reject("its okay"));
      }
    }
  }
}

TEST_CASE("null rejects abort all subsequent rules") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    Harness h(StateType::kCrashed, kScheduled, kind);
    auto rejector = make_rule("NullRejector");
    rejector->on_before = [](RuleHook& hook) { hook.reject_transition(nullptr, "its okay"); };
    auto minimal = make_rule("Minimal");
    h.run_chain({entry(rejector), entry(minimal)});
    CHECK(minimal->before + minimal->after + minimal->cleanup_calls == 0);
    CHECK(name_of(h.ctx.response_status) == "REJECT");
  }
}

TEST_CASE("cannot null-reject runs with no state") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    for (StateType proposed : all_types()) {
      CAPTURE(kind_name(kind));
      CAPTURE(name_of(proposed));
      Harness h(std::nullopt, proposed, kind);
      auto rejector = make_rule("NullRejector");
      rejector->on_before = [](RuleHook& hook) { hook.reject_transition(nullptr, "its okay"); };
      const auto out = h.run_chain({entry(rejector)});
      const std::string reason =
          std::string("Aborting orchestration due to error in NullRejector: !") + kNoStateToKeep;
      CHECK(h.ctx.orchestration_error == reason);
      CHECK(name_of(h.ctx.response_status) == "ABORT");
      CHECK(h.ctx.response_details == ResponseDetails::abort(reason));
      CHECK(out.error == reason);
      CHECK(h.ctx.validated_state == nullptr);
      CHECK(h.services.written_ids.empty());
    }
  }
}

TEST_CASE("null reject: the OrchestrationError is a HookError with Prefect's text") {
  Harness h(std::nullopt, kRunning);
  auto rule = make_rule("R");
  bool threw = false;
  rule->on_before = [&](RuleHook& hook) {
    try {
      hook.reject_transition(nullptr, "x");
    } catch (const OrchestrationError& e) {
      threw = std::string(e.what()) == kNoStateToKeep;
      throw;
    }
  };
  h.run_chain({entry(rule)});
  CHECK(threw);
  // It raised before touching anything: the proposal was nulled by the ABORT, not the reject.
  CHECK(name_of(h.ctx.response_status) == "ABORT");
}

TEST_CASE("null reject checks the rule's intended initial type, not the current one") {
  // Intended NONE -> NONE; the body then gives the context an initial state, so the rule
  // fizzles. Validation kept "no state" (validated null), so the guard lets cleanup reject; the
  // reject still fails because the rule's own from-type is NONE (Prefect: self.from_state_type).
  Harness h(std::nullopt, std::nullopt);
  auto rule = make_rule("R");
  rule->on_cleanup = [](RuleHook& hook) { hook.reject_transition(nullptr, "keep"); };
  auto body = make_transform("Body");
  body->on_before = [&](Context& c) { c.initial_state = h.state(kPending); };
  const auto out = h.run_chain({entry(rule)}, {entry(body)});
  CHECK(rule->cleanup_calls == 1);
  CHECK(out.error == kNoStateToKeep);
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
}

TEST_CASE("context will not write new state with null reject") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    Harness h(kPending, kRunning, kind);
    const std::string current_id = h.ctx.initial_state->id;
    auto rejector = make_rule("NullRejector");
    rejector->on_before = [](RuleHook& hook) { hook.reject_transition(nullptr, "its okay"); };
    h.run_chain({entry(rejector)});
    CHECK(h.ctx.proposed_state == nullptr);
    REQUIRE(h.ctx.validated_state != nullptr);
    CHECK(h.ctx.validated_state->id == current_id);
    CHECK(name_of(h.ctx.validated_state) == "PENDING");
    CHECK(h.run.state_id == current_id);
    CHECK(h.services.written_ids.empty());
    CHECK(name_of(h.ctx.response_status) == "REJECT");
  }
}

TEST_CASE("rules that reject state with null do not fizzle themselves") {
  Harness h(kPending, kRunning);
  auto rejector = make_rule("NullRejector");
  rejector->on_before = [](RuleHook& hook) { hook.reject_transition(nullptr, "its okay"); };
  h.run_chain({entry(rejector)});
  CHECK(rejector->before == 1);
  CHECK(rejector->after == 1);
  CHECK(rejector->cleanup_calls == 0);
}

// ---------------------------------------------------------------------------------------------
// delay / abort

TEST_CASE("context will propose no state if asked to wait") {
  for (std::int64_t seconds : {42, 424242}) {
    CAPTURE(seconds);
    Harness h(kPending, kRunning);
    auto rule = make_rule("Waiter");
    rule->on_before = [&](RuleHook& hook) { hook.delay_transition(seconds, "I'm not ready"); };
    h.run_chain({entry(rule)});
    CHECK(h.ctx.proposed_state == nullptr);
    CHECK(name_of(h.ctx.response_status) == "WAIT");
    CHECK(h.ctx.response_details.kind == ResponseDetails::Kind::kWait);
    CHECK(h.ctx.response_details.delay_seconds == seconds);
    CHECK(h.ctx.response_details.reason == "I'm not ready");
    CHECK(name_of(h.ctx.validated_state) == "PENDING");
  }
}

TEST_CASE("rules can't try to wait after validation") {
  for (std::int64_t seconds : {42, 424242}) {
    CAPTURE(seconds);
    Harness h(kPending, kRunning);
    auto rule = make_rule("Waiter");
    rule->on_after = [&](RuleHook& hook) { hook.delay_transition(seconds, "too late"); };
    const auto out = h.run_chain({entry(rule)});
    REQUIRE(out.escaped);
    CHECK(message_of(out.escaped) == kAlreadyValidated);
    CHECK(name_of(h.ctx.validated_state) == "RUNNING");
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  }
}

TEST_CASE("context will propose no state if aborted") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Aborter");
  rule->on_before = [](RuleHook& hook) {
    hook.abort_transition("stop the transition if possible");
  };
  h.run_chain({entry(rule)});
  CHECK(h.ctx.proposed_state == nullptr);
  CHECK(h.ctx.validated_state->id == h.ctx.initial_state->id);
  CHECK(name_of(h.ctx.response_status) == "ABORT");
  CHECK(h.ctx.response_details == ResponseDetails::abort("stop the transition if possible"));
  CHECK_FALSE(h.ctx.orchestration_error.has_value());  // a deliberate abort is not an error
}

TEST_CASE("rules can't abort after validation") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Aborter");
  rule->on_after = [](RuleHook& hook) { hook.abort_transition("too late"); };
  const auto out = h.run_chain({entry(rule)});
  CHECK(out.error == kAlreadyValidated);
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
}

TEST_CASE("delay and abort nullify the proposal and invalidate later rules") {
  Harness h(kPending, kRunning);
  auto delayer = make_rule("Delayer");
  delayer->on_before = [](RuleHook& hook) { hook.delay_transition(0, std::nullopt); };
  auto later = make_rule("Later");
  h.run_chain({entry(delayer), entry(later)});
  CHECK(later->before == 0);
  CHECK(h.ctx.response_details == ResponseDetails::wait(0, std::nullopt));
}

TEST_CASE("several mutations in one hook: the last one wins") {
  SUBCASE("reject then delay") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("R");
    rule->on_before = [](RuleHook& hook) {
      hook.reject_transition(hook.new_state(proposal(StateType::kFailed)), "first");
      hook.delay_transition(7, "second");
    };
    h.run_chain({entry(rule)});
    CHECK(h.ctx.proposed_state == nullptr);
    CHECK(h.ctx.response_details == ResponseDetails::wait(7, "second"));
    CHECK(rule->after == 1);  // to-type NONE, which TO = everything contains
  }
  SUBCASE("reject twice") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("R", StateTypeSet::all(), StateTypeSet{kRunning, kCompleted});
    rule->on_before = [](RuleHook& hook) {
      hook.reject_transition(hook.new_state(proposal(StateType::kFailed)), "first");
      hook.reject_transition(hook.new_state(proposal(kCompleted)), "second");
    };
    h.run_chain({entry(rule)});
    CHECK(name_of(h.ctx.validated_state) == "COMPLETED");
    CHECK(h.ctx.response_details == ResponseDetails::reject("second"));
    CHECK(rule->after == 1);  // its to-type is the last one, COMPLETED, inside TO
  }
}

// ---------------------------------------------------------------------------------------------
// rename

TEST_CASE("rename never fizzles anyone") {
  Harness h(kPending, kRunning);
  auto earlier = make_rule("Earlier");
  auto renamer = make_rule("Renamer");
  renamer->on_before = [](RuleHook& hook) { hook.rename_state("Retrying"); };
  auto later = make_rule("Later");
  h.run_chain({entry(earlier), entry(renamer), entry(later)});
  CHECK(earlier->after == 1);
  CHECK(earlier->cleanup_calls == 0);
  CHECK(later->before == 1);
  CHECK(h.ctx.validated_state->name == "Retrying");
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");  // a rename is not a rejection
}

TEST_CASE("rename after validation changes the old proposal, not the validated state") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("LateRenamer");
  rule->on_after = [](RuleHook& hook) { hook.rename_state("TooLate"); };
  const auto out = h.run_chain({entry(rule)});
  CHECK_FALSE(out.error.has_value());  // no guard on rename
  CHECK(h.ctx.proposed_state->name == "TooLate");
  CHECK(h.ctx.validated_state->name == "Running");
  CHECK(h.ctx.finalization_signature == Strings{"LateRenamer"});
}

TEST_CASE("rename with no proposal does nothing, renaming twice keeps the last name") {
  SUBCASE("no proposal") {
    Harness h(kPending, kRunning);
    auto rule = make_rule("R");
    rule->on_before = [](RuleHook& hook) {
      hook.reject_transition(nullptr, "keep");
      hook.rename_state("Ignored");
    };
    h.run_chain({entry(rule)});
    CHECK(h.ctx.proposed_state == nullptr);
    CHECK(h.ctx.validated_state->name == "Pending");
  }
  SUBCASE("twice") {
    Harness h(kPending, kRunning);
    auto a = make_rule("A");
    a->on_before = [](RuleHook& hook) { hook.rename_state("First"); };
    auto b = make_rule("B");
    b->on_before = [](RuleHook& hook) { hook.rename_state("Second"); };
    h.run_chain({entry(a), entry(b)});
    CHECK(h.ctx.validated_state->name == "Second");
  }
}

TEST_CASE("rename acts on the real proposal, not the hook's copy") {
  Harness h(kPending, kRunning);
  std::string copy_name;
  auto rule = make_rule("R");
  rule->on_before = [&](RuleHook& hook) {
    hook.rename_state("Renamed");
    copy_name = hook.context().proposed_state->name;
  };
  h.run_chain({entry(rule)});
  CHECK(copy_name == "Running");  // the copy was taken before the rename
  CHECK(h.ctx.proposed_state->name == "Renamed");
}

// ---------------------------------------------------------------------------------------------
// parameters, new_state, record

TEST_CASE("update_context_parameters persists even when the hook then raises") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("R");
  rule->on_before = [](RuleHook& hook) {
    hook.update_context_parameters("k", Json::array({1, 2}));
    hook.update_context_parameters("nothing", nullptr);
    throw HookError("after setting");
  };
  h.run_chain({entry(rule)});
  CHECK(h.ctx.parameters == Json{{"k", {1, 2}}, {"nothing", nullptr}});
}

TEST_CASE("parameters written in after and cleanup hooks persist too") {
  Harness h(kPending, kRunning);
  auto fizzler = make_rule("Fizzler");
  fizzler->on_cleanup = [](RuleHook& hook) { hook.update_context_parameters("cleanup", 1); };
  auto mutator = make_rule("Mutator");
  mutator->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(StateType::kFailed)), "");
  };
  mutator->on_after = [](RuleHook& hook) { hook.update_context_parameters("after", 2); };
  h.run_chain({entry(fizzler), entry(mutator)});
  CHECK(h.ctx.parameters == Json{{"after", 2}, {"cleanup", 1}});
}

TEST_CASE("new_state mints a state as the server does") {
  Harness h(kPending, kRunning);
  StatePtr made, scheduled, named;
  auto rule = make_rule("R");
  rule->on_before = [&](RuleHook& hook) {
    made = hook.new_state(proposal(StateType::kFailed));
    scheduled = hook.new_state(proposal(kScheduled));
    named = hook.new_state(proposal(kScheduled, "AwaitingRetry"));
  };
  h.run_chain({entry(rule)});
  REQUIRE(made);
  CHECK(made->name == "Failed");
  CHECK(made->timestamp == kNow);
  CHECK(made->id.size() == 36);
  CHECK(made->id != scheduled->id);
  CHECK(made->id != h.ctx.proposed_state->id);
  CHECK_FALSE(made->details->scheduled_time.has_value());
  CHECK(scheduled->details->scheduled_time == kNow);
  CHECK(named->name == "AwaitingRetry");
}

TEST_CASE("record appends RULE:hook:tag") {
  Harness h(kPending, kRunning);
  auto fizzler = make_rule("Fizzler");
  fizzler->on_before = [](RuleHook& hook) { hook.record("b"); };
  fizzler->on_cleanup = [](RuleHook& hook) { hook.record("c"); };
  auto mutator = make_rule("Mutator");
  mutator->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(StateType::kFailed)), "");
  };
  mutator->on_after = [](RuleHook& hook) { hook.record("a"); };
  h.run_chain({entry(fizzler), entry(mutator)});
  CHECK(h.ctx.side_effects == Strings{"Fizzler:before:b", "Mutator:after:a", "Fizzler:cleanup:c"});
}

TEST_CASE("RuleHook exposes the hook's view: initial and proposed, then validated") {
  Harness h(kPending, kRunning);
  std::string before_state, after_state, initial_seen, rule_name;
  HookName after_hook = HookName::kBefore;
  auto rule = make_rule("Viewer");
  rule->on_before = [&](RuleHook& hook) {
    before_state = name_of(hook.context().proposed_state);
    initial_seen = name_of(hook.context().initial_state);
    rule_name = std::string(hook.rule_name());
    hook.reject_transition(hook.new_state(proposal(StateType::kFailed)), "");
  };
  rule->on_after = [&](RuleHook& hook) {
    after_state = name_of(hook.context().validated_state);
    after_hook = hook.hook();
  };
  h.run_chain({entry(rule)});
  CHECK(before_state == "RUNNING");
  CHECK(initial_seen == "PENDING");
  CHECK(after_state == "FAILED");  // the validated state
  CHECK(after_hook == HookName::kAfter);
  CHECK(rule_name == "Viewer");
}

// ---------------------------------------------------------------------------------------------
// make_state and State copies (lib/engine/state.cpp)

TEST_CASE("make_state: default names, given names, message, data") {
  for (StateType t : all_types()) {
    auto s = make_state(proposal(t), "id-1", kNow);
    CHECK(s->name == default_state_name(t));
    CHECK(s->type == t);
    CHECK(s->id == "id-1");
    CHECK(s->timestamp == kNow);
  }
  StateProposal p = proposal(kRunning, "Retrying");
  p.message = "again";
  p.data = Json{{"value", 1}};
  auto s = make_state(p, "id-2", kNow);
  CHECK(s->name == "Retrying");
  CHECK(s->message == "again");
  REQUIRE(s->data);
  CHECK(*s->data == Json{{"value", 1}});
  p.data = Json(nullptr);
  CHECK(make_state(p, "id-3", kNow)->data == nullptr);  // JSON null = no data
}

TEST_CASE("make_state: SCHEDULED gets scheduled_time = now unless one is given") {
  auto s = make_state(proposal(kScheduled), "id", kNow);
  CHECK(s->details->scheduled_time == kNow);
  StateProposal p = proposal(kScheduled);
  p.details.scheduled_time = kNow + 60 * kMicrosPerSecond;
  CHECK(make_state(p, "id", kNow)->details->scheduled_time == kNow + 60 * kMicrosPerSecond);
  CHECK_FALSE(make_state(proposal(kPending), "id", kNow)->details->scheduled_time.has_value());
}

TEST_CASE("State copy shares details and data, deep_copy shares nothing") {
  auto original = make_state(proposal(kRunning), "id", kNow);
  original->data = std::make_shared<Json>(Json{{"v", 1}});
  State shallow = *original;
  State deep = original->deep_copy();
  original->details->cache_key = "k";
  (*original->data)["v"] = 2;
  original->name = "Renamed";
  CHECK(shallow.details->cache_key == "k");
  CHECK((*shallow.data)["v"] == 2);
  CHECK(shallow.name == "Running");
  CHECK_FALSE(deep.details->cache_key.has_value());
  CHECK((*deep.data)["v"] == 1);
  CHECK(deep.id == "id");
}

// ---------------------------------------------------------------------------------------------
// Read-only views (initial_view, state_view): what the copies would show, without copying

TEST_CASE("views show the states the copies would, and the copies once they exist") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("Viewer");
  const State* initial_seen = nullptr;
  const State* proposed_seen = nullptr;
  const State* copy_seen = nullptr;
  rule->on_before = [&](RuleHook& hook) {
    initial_seen = hook.initial_view();
    proposed_seen = hook.state_view();
    copy_seen = hook.context().proposed_state.get();
    CHECK(hook.state_view() == copy_seen);  // a copy made, views show it
  };
  h.run_chain({entry(rule)});
  CHECK(initial_seen == h.ctx.initial_state.get());
  CHECK(proposed_seen == h.ctx.proposed_state.get());
  CHECK(copy_seen != proposed_seen);
}

TEST_CASE("a view of the proposal keeps its name through a rename, as the copy would") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("R");
  std::string seen_after_rename;
  rule->on_before = [&](RuleHook& hook) {
    const State* proposed = hook.state_view();
    hook.rename_state("Renamed");
    seen_after_rename = proposed->name;
    CHECK(hook.context().proposed_state->name == "Running");
  };
  h.run_chain({entry(rule)});
  CHECK(seen_after_rename == "Running");
  CHECK(h.ctx.proposed_state->name == "Renamed");
  CHECK(h.ctx.validated_state->name == "Renamed");
}

TEST_CASE("a view of the proposal outlives a rejection that drops it") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("R");
  std::string seen_after_reject;
  rule->on_before = [&](RuleHook& hook) {
    const State* proposed = hook.state_view();
    hook.reject_transition(nullptr, "no");
    seen_after_reject = name_of(proposed->type);
  };
  h.run_chain({entry(rule)});
  CHECK(seen_after_reject == "RUNNING");
  CHECK(h.ctx.proposed_state == nullptr);
}

TEST_CASE("a details field edited through a view is real, as through a copy") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("R");
  rule->on_before = [](RuleHook& hook) { hook.state_view()->details->cache_key = "k"; };
  h.run_chain({entry(rule)});
  CHECK(h.ctx.validated_state->details->cache_key == "k");
}

TEST_CASE("after hooks view the validated state") {
  Harness h(kPending, kRunning);
  auto rule = make_rule("R");
  const State* seen = nullptr;
  rule->on_after = [&](RuleHook& hook) { seen = hook.state_view(); };
  h.run_chain({entry(rule)});
  CHECK(seen == h.ctx.validated_state.get());
}

TEST_CASE("the context accessors read the real context without copying it") {
  Harness h(kPending, kRunning);
  h.ctx.client_version = "3.4.11";
  h.ctx.parameters = Json{{"api-version", "0.8.4"}};
  auto rule = make_rule("R");
  rule->on_before = [&](RuleHook& hook) {
    CHECK(&hook.run() == &h.run);
    CHECK(hook.services() == &h.services);
    CHECK(hook.now() == kNow);
    CHECK(hook.kind() == RunKind::kTask);
    CHECK(hook.client_version() == "3.4.11");
    CHECK(hook.parameters() == Json{{"api-version", "0.8.4"}});
    // Once a helper has run, they show the copy: the context as the hook found it.
    hook.update_context_parameters("k", 1);
    CHECK(hook.parameters() == Json{{"api-version", "0.8.4"}});
  };
  h.run_chain({entry(rule)});
  CHECK(h.ctx.parameters == Json{{"api-version", "0.8.4"}, {"k", 1}});
}

// ---------------------------------------------------------------------------------------------
// Signatures

TEST_CASE("signatures hold any number of entries, in order") {
  Harness h(kPending, kRunning);
  std::vector<std::shared_ptr<TestRule>> rules;
  std::vector<PolicyEntry> entries;
  Strings names;
  for (int i = 0; i < 40; ++i) {
    names.push_back("Rule" + std::to_string(i));
    rules.push_back(make_rule(names.back()));
    entries.push_back(entry(rules.back()));
  }
  h.run_chain(entries);
  CHECK(h.ctx.rule_signature == names);
  CHECK(h.ctx.rule_signature.size() == 40);
  CHECK(h.ctx.rule_signature.back() == "Rule39");
  Strings reversed(names.rbegin(), names.rend());
  CHECK(h.ctx.finalization_signature.to_strings() == reversed);
  Signature moved = std::move(h.ctx.rule_signature);
  CHECK(moved == names);
  CHECK(h.ctx.rule_signature.empty());
}

TEST_CASE("signatures outlive the rules that signed them") {
  Harness h(kPending, kRunning);
  h.run_chain({entry(make_rule("ShortLived"))});
  CHECK(h.ctx.rule_signature == Strings{"ShortLived"});
  CHECK(intern_name("ShortLived") == intern_name(std::string("Short") + "Lived"));
}

}  // namespace
}  // namespace runctl::testing
