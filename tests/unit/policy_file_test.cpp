// Policy files (lib/policy/policy_file.cpp) and policy resolution (lib/policy/policy.cpp,
// builtin_policies.cpp). Every problem is reported as "policy file ORIGIN: $.json.path: what".
#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine_fixture.hpp"
#include "policy/builtin_policies.hpp"
#include "policy/declarative.hpp"
#include "policy/policy.hpp"
#include "rules/registry.hpp"
#include "util/error.hpp"

namespace runctl::testing {
namespace {

// The message of the kBadPolicy error that parsing `text` raises, or a note saying what happened
// instead (so a failing CHECK shows it).
std::string policy_error(const std::string& text, const std::string& origin = "p.json") {
  try {
    parse_policy(text, origin);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kBadPolicy) return std::string("wrong error kind: ") + e.what();
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a runctl::Error: ") + e.what();
  }
  return "no error";
}

// A policy with one declarative rule whose before hook is `actions`.
std::string rule_with_before(const std::string& actions) {
  return R"({"rules": [{"name": "A", "from": "*", "to": "*", "before": )" + actions + "}]}";
}

Strings names(const std::vector<PolicyEntry>& entries) {
  Strings out;
  for (const PolicyEntry& e : entries) out.push_back(e.name());
  return out;
}

const std::string kActions =
    "(expected reject, delay, abort, rename, set_parameter, fail or record)";

// ---------------------------------------------------------------------------------------------
// Valid files

TEST_CASE("policy file: a valid file with rules and transforms") {
  const Policy p = parse_policy(R"({
    "rules": [
      {"name": "A", "from": "*", "to": ["RUNNING", "NONE"],
       "before": [{"reject": {"state": {"type": "FAILED", "name": "Nope", "message": "m",
                                        "state_details": {"cache_key": "k"}, "data": {"v": 1}},
                              "reason": "r"}},
                  {"reject": {"state": null}},
                  {"delay": {"seconds": 5, "reason": null}},
                  {"abort": {}},
                  {"rename": "New"},
                  {"set_parameter": {"key": "k", "value": [1, {"x": null}]}},
                  {"fail": "msg"},
                  {"record": "tag"}],
       "after": [], "cleanup": [{"record": "c"}]},
      {"name": "B", "from": ["pending", "none"]}
    ],
    "transforms": [{"name": "T", "from": ["RUNNING"], "before": [{"record": "b"}]}]
  })",
                                "my-policy.json");
  CHECK(p.name == "my-policy.json");
  CHECK(p.missing.empty());
  REQUIRE(p.rules.size() == 2);
  CHECK(names(p.rules) == Strings{"A", "B"});
  CHECK(p.rules[0].kind() == EntryKind::kRule);
  CHECK(p.rules[0].info().from_states.is_all());
  CHECK(p.rules[0].info().to_states == (StateTypeSet{StateType::kRunning, MaybeType()}));
  // Lower-case type names are accepted, "NONE" included.
  CHECK(p.rules[1].info().from_states == (StateTypeSet{StateType::kPending, MaybeType()}));
  // Absent "to": Prefect's default TO_STATES, empty (the rule never fires).
  CHECK(p.rules[1].info().to_states.empty());
  REQUIRE(p.transforms);
  REQUIRE(p.transforms->size() == 1);
  CHECK((*p.transforms)[0].kind() == EntryKind::kTransform);
  // A transform's "from"/"to" are ignored: it fires on every transition.
  CHECK((*p.transforms)[0].info().from_states.is_all());
  CHECK((*p.transforms)[0].info().to_states.is_all());
}

TEST_CASE("policy file: '*' is all nine types and NONE") {
  const Policy p = parse_policy(R"({"rules": [{"name": "A", "from": "*", "to": "*"}]})", "p");
  CHECK(p.rules[0].info().from_states == StateTypeSet::all());
  CHECK(p.rules[0].info().to_states.contains(MaybeType()));
}

TEST_CASE("policy file: the parsed actions keep their arguments") {
  // Run the parsed rule and look at what it did, rather than at the parser's internals.
  const Policy p = parse_policy(rule_with_before(R"([
      {"set_parameter": {"key": "k", "value": {"deep": [1, 2]}}},
      {"reject": {"state": {"type": "FAILED", "name": "Nope", "message": "m",
                            "state_details": {"cache_key": "ck"}, "data": {"v": 1}},
                  "reason": "because"}}])"),
                                "p");
  Harness h(StateType::kPending, StateType::kRunning);
  h.run_chain(p.rules);
  CHECK(h.ctx.parameters == Json{{"k", {{"deep", {1, 2}}}}});
  REQUIRE(h.ctx.validated_state);
  CHECK(name_of(h.ctx.validated_state) == "FAILED");
  CHECK(h.ctx.validated_state->name == "Nope");
  CHECK(h.ctx.validated_state->message == "m");
  CHECK(h.ctx.validated_state->details->cache_key == "ck");
  REQUIRE(h.ctx.validated_state->data);
  CHECK(*h.ctx.validated_state->data == Json{{"v", 1}});
  CHECK(h.ctx.response_details == ResponseDetails::reject("because"));
}

TEST_CASE("policy file: delay seconds and absent reasons") {
  const Policy p = parse_policy(rule_with_before(R"([{"delay": {"seconds": 0}}])"), "p");
  Harness h(StateType::kPending, StateType::kRunning);
  h.run_chain(p.rules);
  CHECK(h.ctx.response_details == ResponseDetails::wait(0, std::nullopt));
}

TEST_CASE("policy file: 'transforms' absent is not the same as empty") {
  const Policy absent = parse_policy(R"({"rules": []})", "p");
  CHECK_FALSE(absent.transforms.has_value());
  const Policy empty = parse_policy(R"({"rules": [], "transforms": []})", "p");
  REQUIRE(empty.transforms.has_value());
  CHECK(empty.transforms->empty());
  const Policy nothing = parse_policy("{}", "p");
  CHECK(nothing.rules.empty());
  CHECK_FALSE(nothing.transforms.has_value());
}

// ---------------------------------------------------------------------------------------------
// Errors: each names the origin, the JSON path and the problem

TEST_CASE("policy file error: not JSON") {
  const std::string e = policy_error(R"({"rules": [)", "broken.json");
  CHECK(e.rfind("policy file broken.json: $: not valid JSON: ", 0) == 0);
  CHECK(e.find("[json.exception") == std::string::npos);  // the library's prefix is stripped
}

TEST_CASE("policy file error: not an object") {
  CHECK(policy_error("[]") ==
        R"(policy file p.json: $: expected an object with "rules" and "transforms")");
  CHECK(policy_error("42", "other.json").find("policy file other.json: $: ") == 0);
}

TEST_CASE("policy file error: unknown top-level key") {
  CHECK(policy_error(R"({"rules": [], "rule": []})") ==
        R"(policy file p.json: $: unknown key "rule" (expected rules, transforms))");
}

TEST_CASE("policy file error: rules and entries of the wrong shape") {
  CHECK(policy_error(R"({"rules": {}})") == "policy file p.json: $.rules: expected an array");
  CHECK(policy_error(R"({"transforms": "T"})") ==
        "policy file p.json: $.transforms: expected an array");
  CHECK(policy_error(R"({"rules": [{"name": "A"}, 1]})") ==
        R"(policy file p.json: $.rules[1]: expected a built-in name, "@policy" or a rule object)");
}

TEST_CASE("policy file error: unknown rule key") {
  CHECK(
      policy_error(R"({"rules": [{"name": "A", "befor": []}]})") ==
      R"(policy file p.json: $.rules[0]: unknown key "befor" (expected name, from, to, before, after, cleanup))");
  // Transforms have no cleanup hook.
  CHECK(
      policy_error(R"({"transforms": [{"name": "T", "cleanup": []}]})") ==
      R"(policy file p.json: $.transforms[0]: unknown key "cleanup" (expected name, from, to, before, after))");
}

TEST_CASE("policy file error: unknown action") {
  const std::string text = R"({"rules": [{"name": "A"},
                                          {"name": "B", "before": [{"jump": {}}]}]})";
  CHECK(policy_error(text) ==
        R"(policy file p.json: $.rules[1].before[0]: unknown action "jump" )" + kActions);
}

TEST_CASE("policy file error: an action object must have exactly one key") {
  CHECK(policy_error(R"({"rules": [{"name": "A", "after": [{"record": "x", "fail": "y"}]}]})") ==
        "policy file p.json: $.rules[0].after[0]: expected an object with exactly one action key");
  CHECK(policy_error(rule_with_before("[{}]")) ==
        "policy file p.json: $.rules[0].before[0]: expected an object with exactly one action key");
  CHECK(policy_error(rule_with_before(R"(["record"])")) ==
        "policy file p.json: $.rules[0].before[0]: expected an object with exactly one action key");
  CHECK(policy_error(rule_with_before("{}")) ==
        "policy file p.json: $.rules[0].before: expected an array of actions");
}

TEST_CASE("policy file error: bad state types in from and to") {
  CHECK(policy_error(R"({"rules": [{"name": "A", "from": ["RUNNING", "BOGUS"]}]})") ==
        R"(policy file p.json: $.rules[0].from[1]: unknown state type "BOGUS")");
  CHECK(policy_error(R"({"rules": [{"name": "A", "to": ["NOPE"]}]})") ==
        R"(policy file p.json: $.rules[0].to[0]: unknown state type "NOPE")");
  CHECK(policy_error(R"({"rules": [{"name": "A", "to": [3]}]})") ==
        "policy file p.json: $.rules[0].to[0]: expected a string");
  // Only "*" may stand for a set; a lone type must be written as a list.
  CHECK(
      policy_error(R"({"rules": [{"name": "A", "from": "RUNNING"}]})") ==
      R"(policy file p.json: $.rules[0].from: expected "*" or an array of state types and "NONE")");
}

TEST_CASE("policy file error: bad reject states") {
  CHECK(
      policy_error(rule_with_before(R"([{"reject": {"state": {"type": "BOGUS"}}}])")) ==
      R"(policy file p.json: $.rules[0].before[0].reject.state.type: unknown state type "BOGUS")");
  // NONE is not a state type: a null rejection is written "state": null.
  CHECK(policy_error(rule_with_before(R"([{"reject": {"state": {"type": "NONE"}}}])")) ==
        R"(policy file p.json: $.rules[0].before[0].reject.state.type: unknown state type "NONE")");
  CHECK(policy_error(rule_with_before(R"([{"reject": {"state": {"name": "x"}}}])")) ==
        R"(policy file p.json: $.rules[0].before[0].reject.state: missing key "type")");
  CHECK(
      policy_error(
          rule_with_before(R"([{"reject": {"state": {"type": "FAILED", "colour": 1}}}])")) ==
      R"(policy file p.json: $.rules[0].before[0].reject.state: unknown key "colour" (expected type, name, message, state_details, data))");
  CHECK(policy_error(rule_with_before(R"([{"reject": {"state": "FAILED"}}])")) ==
        "policy file p.json: $.rules[0].before[0].reject.state: expected a state object or null");
  CHECK(
      policy_error(rule_with_before(R"([{"reject": {"state": null, "reasn": "x"}}])")) ==
      R"(policy file p.json: $.rules[0].before[0].reject: unknown key "reasn" (expected state, reason))");
  CHECK(
      policy_error(rule_with_before(
          R"([{"reject": {"state": {"type": "FAILED", "state_details": {"flow_run_id": "nope"}}}}])")) ==
      "policy file p.json: $.rules[0].before[0].reject.state.state_details.flow_run_id: not a "
      "UUID: "
      "nope");
  CHECK(
      policy_error(rule_with_before(R"([{"reject": {"state": {"type": "FAILED", "name": 5}}}])")) ==
      "policy file p.json: $.rules[0].before[0].reject.state.name: expected a string");
}

TEST_CASE("policy file error: duplicate names") {
  CHECK(policy_error(R"({"rules": [{"name": "A"}, {"name": "A"}]})") ==
        R"(policy file p.json: $.rules[1].name: duplicate name "A")");
  CHECK(policy_error(R"({"rules": [{"name": "A"}], "transforms": [{"name": "A"}]})") ==
        R"(policy file p.json: $.transforms[0].name: duplicate name "A")");
}

TEST_CASE("policy file error: non-integer delay") {
  CHECK(policy_error(rule_with_before(R"([{"delay": {"seconds": 1.5}}])")) ==
        "policy file p.json: $.rules[0].before[0].delay.seconds: expected an integer number of "
        "seconds");
  CHECK(policy_error(rule_with_before(R"([{"delay": {"seconds": "5"}}])")) ==
        "policy file p.json: $.rules[0].before[0].delay.seconds: expected an integer number of "
        "seconds");
  CHECK(policy_error(rule_with_before(R"([{"delay": {"reason": "r"}}])")) ==
        R"(policy file p.json: $.rules[0].before[0].delay: missing key "seconds")");
  CHECK(
      policy_error(rule_with_before(R"([{"delay": 5}])")) ==
      R"(policy file p.json: $.rules[0].before[0].delay: expected {"seconds": INT, "reason": ...})");
}

// nlohmann stores integers above INT64_MAX unsigned; reading them as int64 would wrap them into
// a silent negative delay, so they are refused like 1.5 is.
TEST_CASE("policy file error: delay seconds beyond 64 bits are refused, not wrapped") {
  for (const std::string seconds : {"9223372036854775808", "18446744073709551615"}) {
    CAPTURE(seconds);
    const std::string e =
        policy_error(rule_with_before(R"([{"delay": {"seconds": )" + seconds + "}}]"));
    const std::string prefix = "policy file p.json: $.rules[0].before[0].delay.seconds: ";
    CHECK(e.substr(0, prefix.size()) == prefix);  // today: "no error"
  }
  // The largest representable value is fine.
  CHECK(policy_error(rule_with_before(R"([{"delay": {"seconds": 9223372036854775807}}])")) ==
        "no error");
}

TEST_CASE("policy file error: other malformed actions") {
  CHECK(policy_error(rule_with_before(R"([{"rename": 5}])")) ==
        "policy file p.json: $.rules[0].before[0].rename: expected a string");
  CHECK(policy_error(rule_with_before(R"([{"abort": {"reason": 5}}])")) ==
        "policy file p.json: $.rules[0].before[0].abort.reason: expected a string");
  CHECK(policy_error(rule_with_before(R"([{"set_parameter": {"key": "k"}}])")) ==
        R"(policy file p.json: $.rules[0].before[0].set_parameter: missing key "value")");
  CHECK(policy_error(rule_with_before(R"([{"set_parameter": {"key": 1, "value": 2}}])")) ==
        "policy file p.json: $.rules[0].before[0].set_parameter.key: expected a string");
  CHECK(policy_error(rule_with_before(R"([{"fail": null}])")) ==
        "policy file p.json: $.rules[0].before[0].fail: expected a string");
  CHECK(policy_error(rule_with_before(R"([{"record": ["x"]}])")) ==
        "policy file p.json: $.rules[0].before[0].record: expected a string");
}

TEST_CASE("policy file error: names") {
  CHECK(policy_error(R"({"rules": [{"from": "*"}]})") ==
        R"(policy file p.json: $.rules[0]: missing key "name")");
  CHECK(policy_error(R"({"rules": [{"name": ""}]})") ==
        "policy file p.json: $.rules[0].name: must not be empty");
  CHECK(policy_error(R"({"transforms": [{"name": 7}]})") ==
        "policy file p.json: $.transforms[0].name: expected a string");
}

TEST_CASE("policy file error: unknown built-in names and policies") {
  CHECK(policy_error(R"({"rules": ["NoSuchRule"]})") ==
        R"(policy file p.json: $.rules[0]: unknown built-in rule or transform "NoSuchRule")");
  CHECK(policy_error(R"({"rules": [{"name": "A"}, "@unknown-policy"]})") ==
        R"(policy file p.json: $.rules[1]: unknown built-in policy "unknown-policy")");
}

TEST_CASE("policy file error: a Prefect entry runctl does not implement yet") {
  // Whichever of Prefect's entries the registry lacks today; none once all are implemented.
  for (const BuiltinPolicy& policy : builtin_policies()) {
    for (std::string_view name : policy.entries) {
      if (find_builtin_entry(name)) continue;
      CAPTURE(name);
      CHECK(policy_error(R"({"rules": [")" + std::string(name) + R"("]})") ==
            R"(policy file p.json: $.rules[0]: built-in ")" + std::string(name) +
                R"(" is not implemented by this runctl yet)");
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Built-in entries and policies inside a file

TEST_CASE("policy file: built-in names and @policies splice in the registry's entries") {
  const Policy core = load_builtin_policy(core_policy(RunKind::kFlow));
  const Policy spliced = parse_policy(R"({"rules": ["@core-flow", {"name": "Mine"}]})", "p");
  Strings expected = names(core.rules);
  expected.push_back("Mine");
  CHECK(names(spliced.rules) == expected);

  const Policy global = load_builtin_policy(global_policy(RunKind::kTask));
  REQUIRE(global.transforms);
  const Policy with_global = parse_policy(R"({"transforms": ["@global-task"]})", "p");
  REQUIRE(with_global.transforms);
  CHECK(names(*with_global.transforms) == names(*global.transforms));

  // A spliced policy's names count as taken.
  if (!core.rules.empty()) {
    const std::string first = core.rules.front().name();
    CHECK(policy_error(R"({"rules": ["@core-flow", {"name": ")" + first + R"("}]})") ==
          R"(policy file p.json: $.rules[1].name: duplicate name ")" + first + R"(")");
  }
}

TEST_CASE("policy file: a built-in rule named in 'transforms' is refused") {
  for (const BuiltinEntry& e : builtin_entries()) {
    if (e.entry.kind() != EntryKind::kRule) continue;
    const std::string name = e.entry.name();
    const Policy p = parse_policy(R"({"rules": [")" + name + R"("]})", "p");
    REQUIRE(p.rules.size() == 1);
    CHECK(p.rules[0].name() == name);
    CHECK(policy_error(R"({"transforms": [")" + name + R"("]})") ==
          R"(policy file p.json: $.transforms[0]: ")" + name +
              R"(" is a rule; "transforms" takes transforms only)");
    return;
  }
}

// ---------------------------------------------------------------------------------------------
// Built-in policies, files on disk, choosing a policy

TEST_CASE("built-in policies: by name or alias, implemented entries in order, the rest missing") {
  CHECK(find_builtin_policy("CoreFlowPolicy") == find_builtin_policy("core-flow"));
  CHECK(find_builtin_policy("coreflowpolicy") == nullptr);  // names are case-sensitive
  CHECK(find_builtin_policy("nope") == nullptr);
  for (const BuiltinPolicy& builtin : builtin_policies()) {
    CAPTURE(builtin.name);
    const Policy p = resolve_policy(std::string(builtin.alias));
    CHECK(p.name == builtin.name);
    const std::vector<PolicyEntry> entries =
        builtin.global ? p.transforms.value_or(std::vector<PolicyEntry>{}) : p.rules;
    if (builtin.global) CHECK(p.rules.empty());
    // Every entry of Prefect's list is either implemented (in order) or listed as missing.
    Strings implemented, missing;
    for (std::string_view name : builtin.entries)
      (find_builtin_entry(name) ? implemented : missing).emplace_back(name);
    CHECK(names(entries) == implemented);
    CHECK(p.missing == missing);
  }
}

TEST_CASE("built-in policies: Prefect's lists, in Prefect's order") {
  auto entries = [](std::string_view name) {
    const BuiltinPolicy* p = find_builtin_policy(name);
    REQUIRE(p != nullptr);
    return Strings(p->entries.begin(), p->entries.end());
  };
  CHECK(entries("CoreFlowPolicy") ==
        Strings{"PreserveDeploymentConcurrencyLeaseId", "PreventDuplicateTransitions",
                "HandleFlowTerminalStateTransitions", "EnforceCancellingToCancelledTransition",
                "BypassCancellingFlowRunsWithNoInfra", "PreventPendingTransitions",
                "ValidateDeploymentConcurrencyAtRunning", "SecureFlowConcurrencySlots",
                "RemoveDeploymentConcurrencyLeaseForOldClientVersions",
                "EnsureOnlyScheduledFlowsMarkedLate", "HandlePausingFlows",
                "HandleResumingPausedFlows", "CopyScheduledTime", "WaitForScheduledTime",
                "RetryFailedFlows", "InstrumentFlowRunStateTransitions",
                "ReleaseFlowConcurrencySlots"});
  CHECK(entries("MinimalFlowPolicy") ==
        Strings{"PreventResultDataLoss", "BypassCancellingFlowRunsWithNoInfra",
                "InstrumentFlowRunStateTransitions", "ReleaseFlowConcurrencySlots"});
  CHECK(entries("MarkLateRunsPolicy") == Strings{"EnsureOnlyScheduledFlowsMarkedLate",
                                                 "EnforceDeploymentConcurrencyOnLate",
                                                 "InstrumentFlowRunStateTransitions"});
  const Strings core_task{"CacheRetrieval",
                          "HandleTaskTerminalStateTransitions",
                          "PreventRunningTasksFromStoppedFlows",
                          "SecureTaskConcurrencySlots",
                          "CopyScheduledTime",
                          "WaitForScheduledTime",
                          "RetryFailedTasks",
                          "RenameReruns",
                          "UpdateFlowRunTrackerOnTasks",
                          "CacheInsertion",
                          "ReleaseTaskConcurrencySlots"};
  CHECK(entries("CoreTaskPolicy") == core_task);
  Strings client_side = core_task;
  client_side.erase(client_side.begin() + 3);  // without SecureTaskConcurrencySlots
  CHECK(entries("ClientSideTaskOrchestrationPolicy") == client_side);
  CHECK(entries("BackgroundTaskPolicy") ==
        Strings{"PreventPendingTransitions", "CacheRetrieval", "HandleTaskTerminalStateTransitions",
                "CopyScheduledTime", "CopyTaskParametersID", "WaitForScheduledTime",
                "RetryFailedTasks", "RenameReruns", "UpdateFlowRunTrackerOnTasks", "CacheInsertion",
                "ReleaseTaskConcurrencySlots", "EnqueueScheduledTasks"});
  CHECK(entries("MinimalTaskPolicy") == Strings{"ReleaseTaskConcurrencySlots"});
  CHECK(entries("GlobalFlowPolicy") ==
        Strings{"EnsureFlowRunStateTimestampIsUnique", "SetRunStateType", "SetRunStateName",
                "SetRunStateTimestamp", "SetStartTime", "SetEndTime", "IncrementRunTime",
                "SetExpectedStartTime", "SetNextScheduledStartTime", "UpdateStateDetails",
                "UpdateSubflowParentTask", "UpdateSubflowStateDetails", "IncrementFlowRunCount",
                "RemoveResumingIndicator"});
  CHECK(entries("GlobalTaskPolicy") ==
        Strings{"SetRunStateType", "SetRunStateName", "SetRunStateTimestamp", "SetStartTime",
                "SetEndTime", "IncrementRunTime", "SetExpectedStartTime",
                "SetNextScheduledStartTime", "UpdateStateDetails", "IncrementTaskRunCount"});
  CHECK(core_policy(RunKind::kFlow).name == "CoreFlowPolicy");
  CHECK(minimal_policy(RunKind::kTask).name == "MinimalTaskPolicy");
  CHECK(global_policy(RunKind::kFlow).global);
  CHECK_FALSE(core_policy(RunKind::kTask).global);
  CHECK(background_task_policy().kind == RunKind::kTask);
}

TEST_CASE("built-in policies: core-flow reports what it lacks") {
  const Policy p = resolve_policy("core-flow");
  CHECK(p.name == "CoreFlowPolicy");
  CHECK(p.rules.size() + p.missing.size() == core_policy(RunKind::kFlow).entries.size());
  // While runctl is incomplete, what it lacks is said, not silently dropped.
  const bool all_implemented = std::all_of(
      core_policy(RunKind::kFlow).entries.begin(), core_policy(RunKind::kFlow).entries.end(),
      [](std::string_view n) { return find_builtin_entry(n) != nullptr; });
  CHECK(p.missing.empty() == all_implemented);
}

// A file in a fresh directory under /tmp, removed with it.
class TempPolicyDir {
 public:
  TempPolicyDir() {
    char pattern[] = "/tmp/runctl_policy_test_XXXXXX";
    const char* made = mkdtemp(pattern);
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempPolicyDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempPolicyDir(const TempPolicyDir&) = delete;
  TempPolicyDir& operator=(const TempPolicyDir&) = delete;

  std::string write(const std::string& name, const std::string& text) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST_CASE("load_policy_file: reads a file, names it by its path") {
  TempPolicyDir dir;
  const std::string file = dir.write("p.json", R"({"rules": [{"name": "A", "from": "*"}]})");
  const Policy p = load_policy_file(file);
  CHECK(p.name == file);
  CHECK(names(p.rules) == Strings{"A"});
  // resolve_policy falls back to a file when the reference is no built-in policy.
  CHECK(names(resolve_policy(file).rules) == Strings{"A"});

  const std::string bad = dir.write("bad.json", R"({"rules": [{"name": 1}]})");
  CHECK_THROWS_WITH(load_policy_file(bad),
                    ("policy file " + bad + ": $.rules[0].name: expected a string").c_str());
}

TEST_CASE("load_policy_file: missing file is kNotFound, a directory is kBadPolicy") {
  TempPolicyDir dir;
  try {
    load_policy_file(dir.path() + "/absent.json");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kNotFound);
    CHECK(std::string(e.what()).find(dir.path() + "/absent.json") != std::string::npos);
  }
  try {
    load_policy_file(dir.path());
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kBadPolicy);
    CHECK(std::string(e.what()) == "policy file " + dir.path() + ": is a directory");
  }
}

TEST_CASE("choose_policy follows Prefect's choice") {
  CHECK(choose_policy(RunKind::kFlow, std::nullopt, false, false).name == "CoreFlowPolicy");
  CHECK(choose_policy(RunKind::kTask, std::nullopt, false, false).name == "CoreTaskPolicy");
  CHECK(choose_policy(RunKind::kFlow, std::nullopt, true, false).name == "MinimalFlowPolicy");
  CHECK(choose_policy(RunKind::kTask, std::nullopt, true, false).name == "MinimalTaskPolicy");
  // A deferred task proposal runs BackgroundTaskPolicy, even when forced or given a policy.
  CHECK(choose_policy(RunKind::kTask, std::nullopt, true, true).name == "BackgroundTaskPolicy");
  CHECK(choose_policy(RunKind::kTask, std::string("core-task"), false, true).name ==
        "BackgroundTaskPolicy");
  // Flows have no background policy.
  CHECK(choose_policy(RunKind::kFlow, std::nullopt, false, true).name == "CoreFlowPolicy");
  CHECK(choose_policy(RunKind::kFlow, std::string("mark-late"), false, false).name ==
        "MarkLateRunsPolicy");
  // --force wins over --policy.
  CHECK(choose_policy(RunKind::kFlow, std::string("mark-late"), true, false).name ==
        "MinimalFlowPolicy");
}

TEST_CASE("transforms_for: a file's own transforms, else the kind's global transforms") {
  const Policy with = parse_policy(R"({"transforms": [{"name": "T"}]})", "p");
  CHECK(names(transforms_for(with, RunKind::kFlow)) == Strings{"T"});
  const Policy empty = parse_policy(R"({"transforms": []})", "p");
  CHECK(transforms_for(empty, RunKind::kFlow).empty());
  const Policy without = parse_policy(R"({"rules": []})", "p");
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    const Policy global = load_builtin_policy(global_policy(kind));
    CHECK(names(transforms_for(without, kind)) == names(global.transforms.value()));
  }
}

}  // namespace
}  // namespace runctl::testing
