// The reference scenario corpus run through the built runctl binary, exactly as
// tests/scenarios/README.md maps a scenario onto the CLI: create a run, set-state with the
// scenario's policy file, compare set-state's JSON and exit code, then `show` the run.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/cli_fixture.hpp"
#include "scenarios/scenario_format.hpp"

namespace {

using nlohmann::json;
using runctl::clitest::CliDb;
using runctl::scenarios::Scenario;

// Scenarios with a proposed state; the other 22 are run against the engine in
// tests/unit/engine_scenarios_test.cpp. A mismatch means the corpus was not copied fully.
constexpr std::size_t kCliScenarioCount = 125;

std::vector<const Scenario*> cli_scenarios() {
  std::vector<const Scenario*> out;
  for (const Scenario& s : runctl::scenarios::corpus(RUNCTL_SCENARIO_DIR))
    if (s.has_proposal()) out.push_back(&s);
  return out;
}

// Appends `flag value` when the scenario state has a non-null `key`. A null or missing name
// means the type's default name, which is what runctl uses when the flag is absent.
void add_optional(std::vector<std::string>& args, const json& state, const char* key,
                  const char* flag) {
  if (state.contains(key) && !state[key].is_null()) {
    args.push_back(flag);
    args.push_back(state[key].get<std::string>());
  }
}

std::string describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

void run_scenario(const Scenario& s) {
  // On the backend the suite runs against; gone even when a REQUIRE aborts the subcase.
  const CliDb db;

  // 1. The run, with its initial state if any.
  const json& initial = s.spec["initial_state"];
  std::vector<std::string> create{s.spec["run_kind"] == "task" ? "task-run" : "flow-run", "create",
                                  "--json"};
  if (!initial.is_null()) {
    create.push_back("--state");
    create.push_back(initial["type"].get<std::string>());
    add_optional(create, initial, "name", "--state-name");
    add_optional(create, initial, "message", "--state-message");
  }
  const ProcessResult created = db.run(create);
  INFO("create: ", describe(created));
  REQUIRE(created.exit_code == 0);
  const json created_json = json::parse(created.out, nullptr, false);
  REQUIRE(created_json.is_object());
  REQUIRE(created_json.contains("id"));
  const std::string id = created_json["id"].get<std::string>();

  // 2. The proposal, through the scenario's policy.
  const std::string policy_file = db.policy(s.spec["policy"]);
  const json& proposed = s.spec["proposed_state"];
  std::vector<std::string> set_state{"set-state", id, proposed["type"].get<std::string>()};
  add_optional(set_state, proposed, "name", "--name");
  add_optional(set_state, proposed, "message", "--message");
  set_state.insert(set_state.end(), {"--policy", policy_file, "--json"});
  const ProcessResult result = db.run(set_state);
  INFO("set-state: ", describe(result));

  // --json promises exactly one JSON object on stdout, whatever the outcome.
  const json out = json::parse(result.out, nullptr, false);
  REQUIRE_MESSAGE(out.is_object(), "set-state stdout is not one JSON object");
  // A hook error is reported once, on one line, beside the JSON.
  if (result.exit_code == 70) {
    const std::string& err = result.err;
    const auto newlines = std::count(err.begin(), err.end(), '\n');
    CHECK_MESSAGE((newlines == 0 || (newlines == 1 && err.back() == '\n')),
                  "stderr is more than one line");
  }

  // 3. What the store holds afterwards.
  const ProcessResult shown = db.run({"show", id, "--json"});
  INFO("show: ", describe(shown));
  REQUIRE(shown.exit_code == 0);
  const json show_json = json::parse(shown.out, nullptr, false);
  REQUIRE(show_json.is_object());

  json actual = json::object();
  actual["exit_code"] = result.exit_code;
  actual["status"] = out.value("status", json());
  actual["details"] = runctl::scenarios::project_details(out.value("details", json()));
  actual["validated_state"] =
      runctl::scenarios::project_validated(out.value("validated_state", json()));
  actual["run_state_after"] =
      runctl::scenarios::project_run_state(show_json.value("state", json()));
  for (const char* f :
       {"rule_signature", "finalization_signature", "parameters", "side_effects", "error"})
    actual[f] = out.value(f, json());

  const std::vector<std::string> diffs = runctl::scenarios::differences(s.expected, actual);
  CHECK_MESSAGE(diffs.empty(), "scenario ", s.name, " differs:\n",
                runctl::scenarios::join_lines(diffs));
}

}  // namespace

TEST_CASE("scenario corpus through the CLI") {
  const std::vector<const Scenario*> selected = cli_scenarios();
  // Guards against an empty or partial corpus making the test pass vacuously.
  REQUIRE(selected.size() == kCliScenarioCount);
  // One SUBCASE per scenario: failures name it, and `-sc=NAME` runs a single one.
  for (const Scenario* s : selected) {
    SUBCASE(s->name.c_str()) {
      INFO("scenario: ", s->name);
      run_scenario(*s);
    }
  }
}
