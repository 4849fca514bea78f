// Compiling a policy for one intended transition (lib/engine/chain.cpp through the built runctl):
// Prefect's TestPoliciesRespectOrdering (tests/server/orchestration/test_policies.py). What a
// policy compiled to is read from the --verbose trace (its "compile" events, in the policy's order)
// and confirmed by the order the rules then ran in: rule_signature and the side effects of their
// `record` actions. The policy files have "transforms": [], so only the rules under test compile.
#include <doctest/doctest.h>

#include "cli_fixture.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:10+00:00";

// A declarative rule that records each of its hooks: "<name>:before:ran" and so on.
Json recording_rule(const std::string& name, const Json& from, const Json& to) {
  Json rule{{"name", name}};
  if (!from.is_null()) rule["from"] = from;
  if (!to.is_null()) rule["to"] = to;
  rule["before"] = Json::array({Json{{"record", "ran"}}});
  rule["after"] = Json::array({Json{{"record", "ran"}}});
  rule["cleanup"] = Json::array({Json{{"record", "ran"}}});
  return rule;
}

Json rules_only(Json rules) {
  return Json{{"rules", std::move(rules)}, {"transforms", Json::array()}};
}

std::string create_in(const CliDb& db, const std::string& kind, const std::string& state) {
  return db.json({"--now", kCreated, kind + "-run", "create", "--state", state}, 0)
      .value("id", std::string());
}

// set-state --dry-run -v through `policy`: the run is left as it was, so one run serves every
// policy of a test.
Json propose(const CliDb& db, const std::string& id, const std::string& type,
             const std::string& policy) {
  return db.json({"--now", kLater, "set-state", id, type, "--policy", policy, "--dry-run", "-v"});
}

// The entries a policy compiled to, in order; `skipped` lists the others.
std::vector<std::string> compiled(const Json& result, const char* outcome = "compiled") {
  std::vector<std::string> out;
  for (const Json& event : result["trace"])
    if (event["step"] == "compile" && event["outcome"] == outcome)
      out.push_back(event["entry"].get<std::string>());
  return out;
}

std::vector<std::string> strings(const Json& array) {
  std::vector<std::string> out;
  for (const Json& s : array) out.push_back(s.get<std::string>());
  return out;
}

using Names = std::vector<std::string>;

TEST_CASE(
    "policies return rules in priority order: "
    "[First, Second] twice compiles the same list, [Second, First] the reverse") {
  CliDb db;
  const Json first = recording_rule("First", "*", "*");
  const Json second = recording_rule("Second", "*", "*");
  const std::string forward = db.policy(rules_only(Json::array({first, second})), "forward.json");
  const std::string again = db.policy(rules_only(Json::array({first, second})), "again.json");
  const std::string reverse = db.policy(rules_only(Json::array({second, first})), "reverse.json");

  for (const std::string kind : {"flow", "task"}) {
    CAPTURE(kind);
    const std::string id = create_in(db, kind, "RUNNING");
    const Json a = propose(db, id, "COMPLETED", forward);
    const Json b = propose(db, id, "COMPLETED", again);
    const Json r = propose(db, id, "COMPLETED", reverse);
    for (const Json* out : {&a, &b, &r}) {
      CHECK((*out)["_exit_code"] == 0);
      CHECK((*out)["status"] == "ACCEPT");
      CHECK(compiled(*out, "skipped").empty());
    }

    CHECK(compiled(a) == Names{"First", "Second"});
    CHECK(compiled(b) == compiled(a));
    CHECK(compiled(r) == Names{"Second", "First"});
    CHECK(compiled(r) != compiled(a));

    // The chain runs in the compiled order: before hooks in it, after hooks in reverse.
    CHECK(strings(a["rule_signature"]) == Names{"First", "Second"});
    CHECK(strings(a["finalization_signature"]) == Names{"Second", "First"});
    CHECK(strings(a["side_effects"]) ==
          Names{"First:before:ran", "Second:before:ran", "Second:after:ran", "First:after:ran"});
    CHECK(b["rule_signature"] == a["rule_signature"]);
    CHECK(b["side_effects"] == a["side_effects"]);
    CHECK(strings(r["rule_signature"]) == Names{"Second", "First"});
    CHECK(strings(r["finalization_signature"]) == Names{"First", "Second"});
    CHECK(strings(r["side_effects"]) ==
          Names{"Second:before:ran", "First:before:ran", "First:after:ran", "Second:after:ran"});
  }
}

TEST_CASE(
    "policies only return relevant rules: "
    "[Useless, Unenforceable, Valid] compiles to [Valid]") {
  CliDb db;
  // Useless leaves `from` and `to` out (the empty set, as Prefect's defaults); Unenforceable
  // spells them as empty arrays. Both are accepted files.
  const Json useless = recording_rule("Useless", nullptr, nullptr);
  const Json unenforceable = recording_rule("Unenforceable", Json::array(), Json::array());
  const Json valid = recording_rule("Valid", "*", "*");
  const std::string policy = db.policy(rules_only(Json::array({useless, unenforceable, valid})));
  CHECK(db.run({"policy", "show", policy}).exit_code == 0);

  for (const std::string kind : {"flow", "task"}) {
    CAPTURE(kind);
    const std::string id = create_in(db, kind, "PENDING");
    const Json out = propose(db, id, "RUNNING", policy);
    CHECK(out["_exit_code"] == 0);
    CHECK(out["status"] == "ACCEPT");
    CHECK(out["validated_state"]["type"] == "RUNNING");

    CHECK(compiled(out) == Names{"Valid"});
    CHECK(compiled(out, "skipped") == Names{"Useless", "Unenforceable"});
    for (const Json& event : out["trace"]) {
      if (event["step"] != "compile" || event["outcome"] != "skipped") continue;
      CHECK(event["why"] == "from PENDING not in FROM []");
    }
    // Nothing else of the two rules shows up: never entered, never exited, no hook ran.
    for (const Json& event : out["trace"]) {
      if (event["step"] == "compile") continue;
      CHECK(event["entry"] != "Useless");
      CHECK(event["entry"] != "Unenforceable");
    }
    CHECK(strings(out["rule_signature"]) == Names{"Valid"});
    CHECK(strings(out["finalization_signature"]) == Names{"Valid"});
    CHECK(strings(out["side_effects"]) == Names{"Valid:before:ran", "Valid:after:ran"});
  }

  // Not even from no state, or towards any other type.
  const std::string fresh = db.create_flow();
  for (const char* to : {"SCHEDULED", "RUNNING", "COMPLETED", "PAUSED", "CANCELLING"}) {
    CAPTURE(to);
    const Json out = propose(db, fresh, to, policy);
    CHECK(compiled(out) == Names{"Valid"});
    CHECK(strings(out["side_effects"]) == Names{"Valid:before:ran", "Valid:after:ran"});
  }
}

}  // namespace
}  // namespace runctl::clitest
