// policy matrix and policy diff (docs/cli.md#policy-matrix): every cell is the engine's own
// answer, the one `set-state --dry-run` gives on a freshly created run in that state.
#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli_fixture.hpp"
#include "cli/graphviz.hpp"

namespace runctl::clitest {
namespace {

// The matrix enters each from-state one second before --now, as a run created then.
constexpr const char* kCreated = "2026-01-01T11:59:59Z";
constexpr const char* kNow = "2026-01-01T12:00:00Z";
constexpr const char* kSeed = "7";

const std::vector<std::string> kFrom = {"NONE",   "SCHEDULED", "PENDING", "RUNNING", "COMPLETED",
                                        "FAILED", "CANCELLED", "CRASHED", "PAUSED",  "CANCELLING"};
const std::vector<std::string> kTo(kFrom.begin() + 1, kFrom.end());

Json parse(const ProcessResult& r) {
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

Json matrix_json(const CliDb& db, std::vector<std::string> args) {
  std::vector<std::string> argv{"--now", kNow, "--seed", kSeed, "policy", "matrix"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--format", "json"});
  return parse(db.run(argv));
}

Json diff_json(const CliDb& db, const std::string& a, const std::string& b) {
  return parse(
      db.run({"--now", kNow, "--seed", kSeed, "policy", "diff", a, b, "--format", "json"}));
}

Json field(const Json& j, const char* key) {
  return j.is_object() ? j[key] : Json();
}

// Every cell of `policy` for `kind` against set-state --dry-run on a fresh run in that state.
void check_against_set_state(const std::string& policy, const std::string& kind) {
  CliDb db;
  const Json m = matrix_json(db, {policy});
  CHECK(m["policy"] == policy);
  CHECK(m["run_kind"] == kind);
  REQUIRE(m["cells"].size() == kFrom.size() * kTo.size());
  std::size_t i = 0;
  for (const std::string& from : kFrom) {
    std::vector<std::string> create{"--now", kCreated, "--seed", kSeed};
    if (from != "NONE") create.insert(create.end(), {"--state", from});
    const std::string id = db.create(kind, create);
    for (const std::string& to : kTo) {
      const Json& cell = m["cells"][i++];
      INFO(policy << " " << from << " -> " << to);
      REQUIRE(cell["from"] == from);
      REQUIRE(cell["to"] == to);
      const Json out = db.json(
          {"--now", kNow, "--seed", kSeed, "set-state", id, to, "--dry-run", "--policy", policy});
      CHECK(cell["status"] == out["status"]);
      CHECK(cell["state_type"] == field(out["validated_state"], "type"));
      CHECK(cell["state_name"] == field(out["validated_state"], "name"));
      CHECK(cell["reason"] == out["details"]["reason"]);
      CHECK(cell["decided_by"] == out["decided_by"]);
      CHECK(cell["error"] == out["error"]);
    }
  }
}

TEST_CASE("policy matrix: every CoreFlowPolicy cell is what set-state --dry-run decides") {
  check_against_set_state("CoreFlowPolicy", "flow");
}

TEST_CASE("policy matrix: every CoreTaskPolicy cell is what set-state --dry-run decides") {
  check_against_set_state("CoreTaskPolicy", "task");
}

TEST_CASE("policy matrix: --run uses the stored run, its state replaced per row") {
  CliDb db;
  const std::string id =
      db.create_flow({"--now", kCreated, "--retries", "2", "--state", "RUNNING"});
  const Json own = matrix_json(db, {"CoreFlowPolicy", "--run", id});
  const Json fresh = matrix_json(db, {"CoreFlowPolicy"});
  CHECK(own["run_id"] == id);
  CHECK(fresh["run_id"].is_null());
  // RUNNING -> FAILED: retries left, so the stored run is sent back to AwaitingRetry.
  const auto cell = [](const Json& m, const std::string& from, const std::string& to) {
    for (const Json& c : m["cells"])
      if (c["from"] == from && c["to"] == to) return c;
    FAIL("no cell " << from << " -> " << to);
    return Json();
  };
  CHECK(cell(own, "RUNNING", "FAILED")["status"] == "REJECT");
  CHECK(cell(own, "RUNNING", "FAILED")["state_name"] == "AwaitingRetry");
  CHECK(cell(fresh, "RUNNING", "FAILED")["status"] == "ACCEPT");
  const Json out =
      db.json({"--now", kNow, "--seed", kSeed, "set-state", id, "FAILED", "--dry-run"});
  CHECK(cell(own, "RUNNING", "FAILED")["reason"] == out["details"]["reason"]);
  // The row of the run's own state is what set-state --dry-run decides on the run itself.
  for (const std::string& to : kTo) {
    INFO("RUNNING -> " << to);
    const Json c = cell(own, "RUNNING", to);
    const Json r = db.json({"--now", kNow, "--seed", kSeed, "set-state", id, to, "--dry-run"});
    CHECK(c["status"] == r["status"]);
    CHECK(c["state_name"] == field(r["validated_state"], "name"));
    CHECK(c["reason"] == r["details"]["reason"]);
    CHECK(c["decided_by"] == r["decided_by"]);
  }
}

TEST_CASE("policy diff: a policy against itself differs nowhere") {
  CliDb db;
  CHECK(diff_json(db, "CoreFlowPolicy", "core-flow")["cells"].empty());
  CHECK(diff_json(db, "CoreTaskPolicy", "CoreTaskPolicy")["cells"].empty());
  const ProcessResult text =
      db.run({"--now", kNow, "policy", "diff", "CoreFlowPolicy", "CoreFlowPolicy"});
  CHECK(text.exit_code == 0);
  CHECK(text.out ==
        "no differences: CoreFlowPolicy and CoreFlowPolicy decide every cell the same (flow runs, "
        "the default run)\n");
}

TEST_CASE("policy diff: one extra rule shows exactly that rule's cells") {
  CliDb db;
  const std::string file = db.policy(Json::parse(R"({"rules": ["@core-flow",
      {"name": "NoCompletionBeforeRunning", "from": ["SCHEDULED", "PENDING"], "to": ["COMPLETED"],
       "before": [{"reject": {"state": null, "reason": "a run must be RUNNING before it completes"}}]}]})"));
  const Json d = diff_json(db, "CoreFlowPolicy", file);
  std::set<std::pair<std::string, std::string>> cells;
  for (const Json& c : d["cells"]) {
    cells.insert({c["from"].get<std::string>(), c["to"].get<std::string>()});
    CHECK(c["b"]["status"] == "REJECT");
    CHECK(c["b"]["decided_by"] == "NoCompletionBeforeRunning");
    CHECK(c["b"]["reason"] == "a run must be RUNNING before it completes");
    CHECK(c["a"]["status"] == "ACCEPT");
  }
  CHECK(cells == std::set<std::pair<std::string, std::string>>{{"SCHEDULED", "COMPLETED"},
                                                               {"PENDING", "COMPLETED"}});
  const ProcessResult text = db.run({"--now", kNow, "policy", "diff", "CoreFlowPolicy", file});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("2 cells differ") != std::string::npos);
  CHECK(text.out.find("SCHEDULED->COMPLETED") != std::string::npos);
}

TEST_CASE("policy matrix: the text grid fits 100 columns and has a legend and the reasons") {
  CliDb db;
  const ProcessResult r =
      db.run({"--now", kNow, "--seed", kSeed, "policy", "matrix", "CoreFlowPolicy"});
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string line;
  int grid_rows = 0;
  while (std::getline(lines, line)) {
    CHECK(line.size() <= 100);
    // A grid row: a from-state, then one symbol per proposed type.
    std::istringstream words(line);
    std::string first, symbol;
    words >> first;
    std::size_t symbols = 0;
    while (words >> symbol) symbols += symbol.size() == 1 ? 1 : 100;
    for (const std::string& from : kFrom)
      if (first == from && symbols == kTo.size()) ++grid_rows;
  }
  CHECK(grid_rows == static_cast<int>(kFrom.size()));
  CHECK(r.out.find("A accepted") != std::string::npos);
  CHECK(r.out.find("Reasons, with the rule that gives each:") != std::string::npos);
}

TEST_CASE("policy matrix: mermaid is a stateDiagram-v2, dot a well-formed digraph") {
  CliDb db;
  const ProcessResult mermaid =
      db.run({"--now", kNow, "policy", "matrix", "CoreTaskPolicy", "--format", "mermaid"});
  REQUIRE(mermaid.exit_code == 0);
  CHECK(mermaid.out.rfind("stateDiagram-v2\n", 0) == 0);
  CHECK(mermaid.out.find("SCHEDULED --> PENDING") != std::string::npos);

  const ProcessResult dot =
      db.run({"--now", kNow, "policy", "matrix", "CoreFlowPolicy", "--format", "dot"});
  REQUIRE(dot.exit_code == 0);
  CHECK(dot.out.rfind("digraph policy {\n", 0) == 0);
  CHECK(dot.out.size() >= 2);
  CHECK(dot.out.substr(dot.out.size() - 2) == "}\n");
  // One edge a cell, each a complete statement with balanced quotes.
  std::istringstream lines(dot.out);
  std::string line;
  int edges = 0;
  while (std::getline(lines, line)) {
    if (line.find(" -> ") == std::string::npos) continue;
    ++edges;
    CHECK(line.back() == ';');
    std::size_t quotes = 0;
    for (std::size_t i = 0; i < line.size(); ++i)
      if (line[i] == '"' && (i == 0 || line[i - 1] != '\\')) ++quotes;
    CHECK(quotes % 2 == 0);
  }
  CHECK(edges == static_cast<int>(kFrom.size() * kTo.size()));
}

TEST_CASE("policy matrix: Graphviz accepts the DOT of every built-in policy and of a diff") {
  CliDb db;
  const ProcessResult list = db.run({"policy", "list", "--json"});
  REQUIRE(list.exit_code == 0);
  std::size_t policies = 0;
  const Json listed = Json::parse(list.out);
  for (const Json& p : listed["policies"]) {
    const std::string name = p["name"].get<std::string>();
    // A policy of no one kind (the minimal one) is drawn for both.
    const std::vector<std::string> kinds = p["run_kind"].is_string()
                                               ? std::vector{p["run_kind"].get<std::string>()}
                                               : std::vector<std::string>{"flow", "task"};
    for (const std::string& kind : kinds) {
      CAPTURE(name);
      CAPTURE(kind);
      const ProcessResult dot =
          db.run({"--now", kNow, "policy", "matrix", name, "--run-kind", kind, "--format", "dot"});
      REQUIRE_MESSAGE(dot.exit_code == 0, dot.err);
      check_accepted_by_graphviz(dot.out);
    }
    ++policies;
  }
  CHECK(policies >= 4);
  // A diff's labels carry the file's own rule name and reason text.
  const std::string file = db.policy(Json::parse(R"({"rules": ["@core-flow",
      {"name": "Quote\"d {Rule}", "from": ["PENDING"], "to": ["RUNNING"],
       "before": [{"reject": {"state": null, "reason": "a \"quoted\" reason; -> {x}\n[y]"}}]}]})"));
  const ProcessResult diff =
      db.run({"--now", kNow, "policy", "diff", "CoreFlowPolicy", file, "--format", "dot"});
  REQUIRE_MESSAGE(diff.exit_code == 0, diff.err);
  CHECK(diff.out.find("PENDING\" -> \"RUNNING") != std::string::npos);
  check_accepted_by_graphviz(diff.out);
}

TEST_CASE("policy matrix: --format svg is Graphviz's drawing of the DOT") {
  CliDb db;
  REQUIRE_MESSAGE(!graphviz_dot().empty(), "no dot on PATH: install Graphviz");
  const ProcessResult svg =
      db.run({"--now", kNow, "policy", "matrix", "CoreFlowPolicy", "--format", "svg"});
  REQUIRE_MESSAGE(svg.exit_code == 0, svg.err);
  CHECK(svg.err == "");
  CHECK(svg.out.find("<svg") != std::string::npos);
  CHECK(svg.out.find("BypassCancellingFlowRunsWithNoInfra") != std::string::npos);
  CHECK(svg.out.substr(svg.out.size() - 7) == "</svg>\n");
}

TEST_CASE("policy matrix: a bad policy is refused as set-state's --policy refuses it") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kCreated});
  const std::string missing = db.dir() + "/no-such-policy.json";
  const ProcessResult set =
      db.run({"--now", kNow, "set-state", id, "RUNNING", "--policy", missing});
  const ProcessResult m = db.run({"--now", kNow, "policy", "matrix", missing});
  CHECK(m.exit_code == set.exit_code);
  CHECK(m.err == set.err);
  CHECK(m.out.empty());
  // A policy of the other kind: exit 64 with set-state's message.
  const std::string task = db.create_task({"--now", kCreated});
  const ProcessResult set_kind =
      db.run({"--now", kNow, "set-state", task, "RUNNING", "--policy", "CoreFlowPolicy"});
  const ProcessResult m_kind =
      db.run({"--now", kNow, "policy", "matrix", "CoreFlowPolicy", "--run-kind", "task"});
  CHECK(m_kind.exit_code == 64);
  CHECK(m_kind.exit_code == set_kind.exit_code);
  CHECK(m_kind.err == set_kind.err);
}

}  // namespace
}  // namespace runctl::clitest
