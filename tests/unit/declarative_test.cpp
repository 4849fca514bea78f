// Declarative rules and transforms (lib/policy/declarative.cpp): a rule's actions go through the
// rule helpers and their guards; a transform's actions set the context directly, unguarded.
#include "policy/declarative.hpp"

#include <doctest/doctest.h>

#include "engine_fixture.hpp"
#include "policy/policy.hpp"

namespace runctl::testing {
namespace {

using Kind = Action::Kind;

Action action(Kind kind) {
  Action a{};
  a.kind = kind;
  return a;
}
Action reject(std::optional<StateProposal> state, std::optional<std::string> reason) {
  Action a = action(Kind::kReject);
  a.state = std::move(state);
  a.reason = std::move(reason);
  return a;
}
Action delay(std::int64_t seconds, std::optional<std::string> reason) {
  Action a = action(Kind::kDelay);
  a.seconds = seconds;
  a.reason = std::move(reason);
  return a;
}
Action abort_action(std::optional<std::string> reason) {
  Action a = action(Kind::kAbort);
  a.reason = std::move(reason);
  return a;
}
Action with_text(Kind kind, std::string text) {
  Action a = action(kind);
  a.text = std::move(text);
  return a;
}
Action rename(std::string name) {
  return with_text(Kind::kRename, std::move(name));
}
Action fail(std::string message) {
  return with_text(Kind::kFail, std::move(message));
}
Action record(std::string tag) {
  return with_text(Kind::kRecord, std::move(tag));
}
Action set_parameter(std::string key, Json value) {
  Action a = action(Kind::kSetParameter);
  a.key = std::move(key);
  a.value = std::move(value);
  return a;
}

PolicyEntry rule(const std::string& name, ActionList before, ActionList after = {},
                 ActionList cleanup = {}, StateTypeSet to = StateTypeSet::all()) {
  return entry(std::make_shared<DeclarativeRule>(info(name, StateTypeSet::all(), to),
                                                 std::move(before), std::move(after),
                                                 std::move(cleanup)));
}

PolicyEntry transform(const std::string& name, ActionList before, ActionList after = {}) {
  return entry(std::make_shared<DeclarativeTransform>(
      TransformInfo{.name = name, .description = "test transform"}, std::move(before),
      std::move(after)));
}

// ---------------------------------------------------------------------------------------------
// record

TEST_CASE("declarative record: 'Name:hook:tag' for rules and transforms") {
  Harness h(kPending, kRunning);
  auto fizzler = rule("Fizzler", {record("b")}, {record("a")}, {record("c")});
  auto mutator = rule("Mutator", {reject(proposal(kFailed), "m")}, {record("a")});
  auto t = transform("T", {record("tb")}, {record("ta")});
  h.run_chain({fizzler, mutator}, {t});
  CHECK(h.ctx.side_effects == Strings{"Fizzler:before:b", "T:before:tb", "T:after:ta",
                                      "Mutator:after:a", "Fizzler:cleanup:c"});
}

// ---------------------------------------------------------------------------------------------
// Rule actions: through the helpers

TEST_CASE("declarative rule reject: a new state as the server mints it") {
  Harness h(kPending, kRunning);
  StateProposal p = proposal(kFailed);
  p.message = "why";
  h.run_chain({rule("R", {reject(p, "x")})});
  REQUIRE(h.ctx.validated_state);
  CHECK(name_of(h.ctx.validated_state) == "FAILED");
  CHECK(h.ctx.validated_state->name == "Failed");
  CHECK(h.ctx.validated_state->message == "why");
  CHECK(h.ctx.validated_state->timestamp == kNow);
  CHECK(h.ctx.validated_state->id != h.ctx.initial_state->id);
  CHECK(h.ctx.response_details == ResponseDetails::reject("x"));
}

TEST_CASE("declarative rule reject tracks the rule's to-type (helper semantics)") {
  SUBCASE("into a type outside TO: invalid on exit, no after") {
    Harness h(kPending, kRunning);
    h.run_chain({rule("R", {reject(proposal(kFailed), "x")}, {record("a")}, {record("c")},
                      StateTypeSet{kRunning})});
    CHECK(h.ctx.side_effects.empty());
    CHECK(h.ctx.finalization_signature.empty());
  }
  SUBCASE("into a type inside TO: after runs") {
    Harness h(kPending, kRunning);
    h.run_chain({rule("R", {reject(proposal(kFailed), "x")}, {record("a")}, {record("c")},
                      StateTypeSet{kRunning, kFailed})});
    CHECK(h.ctx.side_effects == Strings{"R:after:a"});
  }
}

TEST_CASE("declarative rule null reject with no initial state aborts with Prefect's text") {
  Harness h(std::nullopt, kPending);
  const auto out = h.run_chain({rule("R", {reject(std::nullopt, "x")})});
  CHECK(out.error ==
        "Aborting orchestration due to error in R: !The current run has no state; this "
        "transition cannot be rejected without providing a new state.");
}

TEST_CASE("declarative rule reject in after: the guard raises") {
  Harness h(kPending, kRunning);
  const auto out = h.run_chain({rule("R", {}, {record("a"), reject(proposal(kFailed), "late")})});
  CHECK(out.error == "The transition is already validated");
  CHECK(h.ctx.side_effects == Strings{"R:after:a"});
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
}

TEST_CASE("declarative rule delay, abort, rename, set_parameter") {
  SUBCASE("delay") {
    Harness h(kPending, kRunning);
    h.run_chain({rule("R", {delay(3, "d")})});
    CHECK(h.ctx.response_details == ResponseDetails::wait(3, "d"));
    CHECK(h.ctx.proposed_state == nullptr);
  }
  SUBCASE("abort without a reason") {
    Harness h(kPending, kRunning);
    h.run_chain({rule("R", {abort_action(std::nullopt)})});
    CHECK(h.ctx.response_details == ResponseDetails::abort(std::nullopt));
    CHECK(name_of(h.ctx.response_status) == "ABORT");
  }
  SUBCASE("rename") {
    Harness h(kPending, kRunning);
    h.run_chain({rule("R", {rename("Retrying")})});
    CHECK(h.ctx.validated_state->name == "Retrying");
    CHECK(name_of(h.ctx.response_status) == "ACCEPT");
  }
  SUBCASE("set_parameter persists from a copy-holding hook") {
    Harness h(kPending, kRunning);
    h.run_chain({rule("R", {set_parameter("k", Json{{"nested", true}})})});
    CHECK(h.ctx.parameters == Json{{"k", {{"nested", true}}}});
  }
}

TEST_CASE("declarative rule fail: remaining actions skipped, ABORT with the message") {
  Harness h(kPending, kRunning);
  const auto out = h.run_chain(
      {rule("R", {record("b"), fail("it's broken"), record("never")}, {}, {record("c")})});
  CHECK(h.ctx.side_effects == Strings{"R:before:b", "R:cleanup:c"});
  CHECK(out.error == "Aborting orchestration due to error in R: !it's broken");
  CHECK(name_of(h.ctx.response_status) == "ABORT");
}

TEST_CASE("declarative fail raises a HookError") {
  // Transforms' errors are not caught, so the exception's type reaches the caller.
  Harness h(kPending, kRunning);
  const auto out = h.run_chain({}, {transform("T", {fail("boom")})});
  REQUIRE(out.escaped);
  CHECK_THROWS_WITH_AS(std::rethrow_exception(out.escaped), "boom", HookError);
}

// ---------------------------------------------------------------------------------------------
// Transform actions: directly on the context, no guards

TEST_CASE("declarative transform reject after validation changes only the status") {
  Harness h(kPending, kRunning);
  const auto out = h.run_chain(
      {},
      {transform("TLate", {record("b")}, {record("a"), reject(proposal(kFailed), "too late")})});
  CHECK_FALSE(out.error.has_value());  // no guard in a transform
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(h.ctx.response_details == ResponseDetails::reject("too late"));
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
  CHECK(h.run.state_id == h.ctx.validated_state->id);
  CHECK(name_of(h.ctx.proposed_state) == "FAILED");  // replaced, but after validation
  CHECK(h.ctx.finalization_signature == Strings{"TLate"});
  CHECK(h.services.written_ids.size() == 1);
}

TEST_CASE("declarative transform null reject with no initial state: no error") {
  Harness h(std::nullopt, kPending);
  const auto out = h.run_chain(
      {}, {transform("TNull", {reject(std::nullopt, "transform null")}, {record("a")})});
  CHECK_FALSE(out.error.has_value());
  CHECK(name_of(h.ctx.response_status) == "REJECT");
  CHECK(h.ctx.response_details == ResponseDetails::reject("transform null"));
  CHECK(h.ctx.validated_state == nullptr);
  CHECK(h.ctx.side_effects == Strings{"TNull:after:a"});
}

TEST_CASE("declarative transform reject with a state in before: validated is the new state") {
  Harness h(kPending, kRunning);
  h.run_chain({}, {transform("T", {reject(proposal(kFailed, "Nope"), "r")})});
  CHECK(name_of(h.ctx.validated_state) == "FAILED");
  CHECK(h.ctx.validated_state->name == "Nope");
  CHECK(h.ctx.validated_state->timestamp == kNow);
}

TEST_CASE("declarative transform delay: earlier rules fizzle, the transform still finalizes") {
  Harness h(StateType::kScheduled, kPending);
  const auto out =
      h.run_chain({rule("R", {record("b")}, {record("a")}, {record("c")})},
                  {transform("TDelay", {record("b"), delay(11, "transform wait")}, {record("a")})});
  CHECK_FALSE(out.error.has_value());
  CHECK(h.ctx.response_details == ResponseDetails::wait(11, "transform wait"));
  CHECK(name_of(h.ctx.validated_state) == "SCHEDULED");
  CHECK(h.ctx.rule_signature == Strings{"R", "TDelay"});
  CHECK(h.ctx.finalization_signature == Strings{"TDelay"});
  CHECK(h.ctx.side_effects ==
        Strings{"R:before:b", "TDelay:before:b", "TDelay:after:a", "R:cleanup:c"});
}

TEST_CASE("declarative transform abort in after: no guard, status changes") {
  Harness h(kPending, kRunning);
  const auto out = h.run_chain({}, {transform("T", {}, {abort_action("stop")})});
  CHECK_FALSE(out.error.has_value());
  CHECK(h.ctx.response_details == ResponseDetails::abort("stop"));
  CHECK(h.ctx.proposed_state == nullptr);
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
}

TEST_CASE("declarative transform rename: before renames the proposal, after only the old one") {
  Harness h(kPending, kRunning);
  h.run_chain({}, {transform("TRename", {rename("Early")}, {rename("Late")})});
  CHECK(h.ctx.validated_state->name == "Early");
  CHECK(h.ctx.proposed_state->name == "Late");
}

TEST_CASE("declarative transform rename with no proposal does nothing") {
  Harness h(kPending, std::nullopt);
  h.run_chain({}, {transform("T", {rename("Ignored")})});
  CHECK(h.ctx.proposed_state == nullptr);
  CHECK(h.ctx.validated_state->name == "Pending");
}

TEST_CASE("declarative parameters from rules, cleanup and transforms all persist") {
  Harness h(kPending, kRunning);
  h.run_chain({rule("Fizzler", {}, {}, {set_parameter("cleanup", "yes")}),
               rule("Mutator", {reject(proposal(kFailed), "m")})},
              {transform("T", {set_parameter("tb", 1)}, {set_parameter("ta", 2)})});
  CHECK(h.ctx.parameters == Json{{"tb", 1}, {"ta", 2}, {"cleanup", "yes"}});
  CHECK(h.ctx.finalization_signature == Strings{"T", "Mutator"});
}

// ---------------------------------------------------------------------------------------------
// From a policy file to a run of the chain

TEST_CASE("a parsed policy file runs as its scenario expects") {
  // tests/scenarios: before_error_on_null_proposal_runs_after
  const Policy policy = parse_policy(R"({
    "rules": [
      {"name": "Raiser", "from": "*", "to": "*",
       "before": [{"record": "b"}, {"fail": "null boom"}],
       "after": [{"record": "a"}], "cleanup": [{"record": "c"}]},
      {"name": "Later", "from": "*", "to": "*",
       "before": [{"record": "b"}], "after": [{"record": "a"}], "cleanup": [{"record": "c"}]}
    ],
    "transforms": [{"name": "T", "before": [{"record": "b"}], "after": [{"record": "a"}]}]
  })",
                                     "scenario.json");
  Harness h(kPending, std::nullopt);
  REQUIRE(policy.transforms);
  const auto out = h.run_chain(policy.rules, *policy.transforms);
  CHECK(out.error == "Aborting orchestration due to error in Raiser: !null boom");
  CHECK(h.ctx.rule_signature == Strings{"Later", "T"});
  CHECK(h.ctx.finalization_signature == Strings{"Later", "Raiser"});
  CHECK(h.ctx.side_effects == Strings{"Raiser:before:b", "Later:before:b", "T:before:b",
                                      "Later:after:a", "Raiser:after:a"});
}

}  // namespace
}  // namespace runctl::testing
