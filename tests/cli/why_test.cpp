// Why a transition went the way it did (docs/cli.md, "Why"): decided_by in set-state and apply
// results and in the log, the compact signatures of the text output, `log` text showing where
// the run went, `transitions RUN`, and apply's --dry-run and --verbose.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T11:59:50+00:00";
const std::string kNow = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:05+00:00";

// A RUNNING flow run with one retry left: FAILED is rejected into AwaitingRetry by
// RetryFailedFlows (Prefect's TestFlowRetryingRule).
std::string retrying_flow(const CliDb& db) {
  const std::string id =
      create_run_at(db, kCreated, "flow", {"--state", "RUNNING", "--retries", "1"});
  set_run_count(db, id, 1);
  return id;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

TEST_CASE("decided_by: the rule that rejected, in JSON, text and the log") {
  CliDb db;
  const std::string id = retrying_flow(db);
  const Json out = set_state_at(db, kNow, id, "FAILED", {});
  CHECK(out["status"] == "REJECT");
  CHECK(out["decided_by"] == "RetryFailedFlows");
  CHECK(out["validated_state"]["name"] == "AwaitingRetry");

  const Json log = db.json({"log", id}, 0);
  REQUIRE(log["entries"].size() == 2);  // the creation's PENDING -> RUNNING... and FAILED
  const Json& last = log["entries"].back();
  CHECK(last["decided_by"] == "RetryFailedFlows");
  CHECK(last["details"] ==
        Json{{"type", "reject_details"}, {"reason", "Retrying"}, {"delay_seconds", nullptr}});
  CHECK(log["entries"].front()["decided_by"] == nullptr);

  const ProcessResult text = db.run({"log", id});
  REQUIRE(text.exit_code == 0);
  const std::vector<std::string> lines = lines_of(text.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[2].find("RUNNING -> FAILED  REJECT  \"Retrying\"  => SCHEDULED 'AwaitingRetry'") !=
        std::string::npos);
  CHECK(lines[3].starts_with("    decided by RetryFailedFlows; policy CoreFlowPolicy; rules: "));
  CHECK(lines[1].starts_with("    policy MinimalFlowPolicy (forced); rules: "));  // the creation
  for (const std::string& line : lines) CHECK(line.size() < 200);
}

TEST_CASE("decided_by: null for a plain ACCEPT, text names the decider and counts signatures") {
  CliDb db;
  const std::string id = create_run_at(db, kCreated, "flow", {"--state", "PENDING"});
  const Json accepted = set_state_at(db, kNow, id, "RUNNING", {"--dry-run"});
  CHECK(accepted["status"] == "ACCEPT");
  CHECK(accepted["decided_by"] == nullptr);

  const ProcessResult text = db.run({"--now", kNow, "set-state", id, "RUNNING", "--dry-run"});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("decided by:") == std::string::npos);
  // The counts add up to the signature's length, split by what each entry is.
  const std::size_t rules = accepted["rule_signature"].size();
  const std::string rules_line = lines_of(text.out)[5];
  CAPTURE(rules_line);
  CHECK(rules_line.starts_with("rules:        "));
  CHECK(rules_line.find(" + ") != std::string::npos);
  const int rule_count = std::stoi(rules_line.substr(14));
  const int transform_count = std::stoi(rules_line.substr(rules_line.find(" + ") + 3));
  CHECK(static_cast<std::size_t>(rule_count + transform_count) == rules);
  CHECK(rules_line.ends_with(" transforms"));
  // --verbose lists the names instead.
  const ProcessResult verbose =
      db.run({"--now", kNow, "set-state", id, "RUNNING", "--dry-run", "--verbose"});
  CHECK(verbose.out.find("rules:        " + accepted["rule_signature"][0].get<std::string>() +
                         ", ") != std::string::npos);

  const std::string retrying = retrying_flow(db);
  const ProcessResult rejected = db.run({"--now", kNow, "set-state", retrying, "FAILED"});
  CHECK(rejected.exit_code == 1);
  CHECK(lines_of(rejected.out)[2] == "decided by:   RetryFailedFlows");
}

TEST_CASE("decided_by: a policy file's rule that waits") {
  CliDb db;
  const std::string id = create_run_at(db, kCreated, "flow", {"--state", "PENDING"});
  const Json hold = Json::parse(R"({"name": "HoldOn", "from": ["PENDING"], "to": ["RUNNING"],
      "before": [{"delay": {"seconds": 7, "reason": "later"}}]})");
  const std::string waiting = db.policy(Json{{"rules", Json::array({hold})}}, "waits.json");
  const Json waited = set_state_at(db, kNow, id, "RUNNING", {"--policy", waiting});
  CHECK(waited["status"] == "WAIT");
  CHECK(waited["decided_by"] == "HoldOn");
}

TEST_CASE("transitions: every proposable type, decided and rolled back") {
  CliDb db;
  const std::string id = retrying_flow(db);
  const std::string before = db.snapshot();
  const Json out = db.json({"--now", kNow, "transitions", id}, 0);
  CHECK(db.snapshot() == before);
  CHECK(out["run_id"] == id);
  CHECK(out["run_kind"] == "flow");
  CHECK(out["policy"] == "CoreFlowPolicy");
  CHECK(out["initial_state"]["type"] == "RUNNING");
  REQUIRE(out["transitions"].size() == kStateTypes.size());
  for (std::size_t i = 0; i < kStateTypes.size(); ++i) {
    const Json& row = out["transitions"][i];
    CAPTURE(kStateTypes[i]);
    CHECK(row["proposed_type"] == kStateTypes[i]);
    // Each row is what set-state --dry-run says for that type.
    const Json single = set_state_at(db, kNow, id, kStateTypes[i], {"--dry-run"});
    CHECK(row["status"] == single["status"]);
    CHECK(row["details"] == single["details"]);
    CHECK(row["decided_by"] == single["decided_by"]);
    CHECK(row["validated_state"]["type"] == single["validated_state"]["type"]);
    CHECK(row["validated_state"]["name"] == single["validated_state"]["name"]);
  }
  CHECK(db.snapshot() == before);
  const Json& failed = out["transitions"][4];
  CHECK(failed["proposed_type"] == "FAILED");
  CHECK(failed["decided_by"] == "RetryFailedFlows");

  const ProcessResult text = db.run({"--now", kNow, "transitions", id});
  REQUIRE(text.exit_code == 0);
  const std::vector<std::string> lines = lines_of(text.out);
  REQUIRE(lines.size() == 2 + kStateTypes.size());
  CHECK(lines[0] == "run " + id + " (flow, policy CoreFlowPolicy), now RUNNING 'Running'");
  CHECK(lines[1].starts_with("PROPOSED    STATUS STATE"));
  CHECK(lines[2 + 4].starts_with("FAILED      REJECT SCHEDULED 'AwaitingRetry'"));
  CHECK(lines[2 + 4].find("RetryFailedFlows") != std::string::npos);
  CHECK(lines[2 + 4].ends_with(" Retrying"));

  const ProcessResult missing = db.run({"transitions", "5a1f3c1e-0000-4000-8000-000000000009"});
  CHECK(missing.exit_code == 66);
  CHECK(missing.out.empty());
}

TEST_CASE("apply --dry-run: every line decided, nothing written") {
  CliDb db;
  const std::string id = retrying_flow(db);
  const std::string other = create_run_at(db, kCreated, "flow", {"--state", "PENDING"});
  const std::string before = db.snapshot();
  const std::string input = Json{{"run_id", id}, {"state", {{"type", "FAILED"}}}}.dump() + "\n" +
                            Json{{"run_id", other}, {"state", {{"type", "RUNNING"}}}}.dump() + "\n";
  for (const char* every : {"1", "10"}) {
    CAPTURE(every);
    const ProcessResult r =
        db.run({"--now", kNow, "apply", "--json", "--dry-run", "--commit-every", every}, input);
    CHECK(r.exit_code == 1);  // the worst line: a REJECT
    const std::vector<std::string> lines = lines_of(r.out);
    REQUIRE(lines.size() == 2);
    const Json first = Json::parse(lines[0]);
    CHECK(first["dry_run"] == true);
    CHECK(first["decided_by"] == "RetryFailedFlows");
    CHECK(first.contains("trace") == false);
    const Json second = Json::parse(lines[1]);
    CHECK(second["status"] == "ACCEPT");
    CHECK(second["validated_state"]["type"] == "RUNNING");
    CHECK(db.snapshot() == before);
  }
  CHECK(db.show(other)["state"]["type"] == "PENDING");
}

TEST_CASE("apply --verbose: each line's trace, in JSON or on stderr") {
  CliDb db;
  const std::string id = create_run_at(db, kCreated, "flow", {"--state", "PENDING"});
  const std::string input = Json{{"run_id", id}, {"state", {{"type", "RUNNING"}}}}.dump() + "\n";
  const ProcessResult r =
      db.run({"--now", kNow, "apply", "--json", "--verbose", "--dry-run"}, input);
  REQUIRE(r.exit_code == 0);
  const Json line = Json::parse(r.out);
  REQUIRE(line.contains("trace"));
  const Json single = db.json({"--now", kNow, "set-state", id, "RUNNING", "--dry-run", "-v"}, 0);
  REQUIRE(single["trace"].is_array());
  CHECK(line["trace"].size() == single["trace"].size());
  CHECK(line["trace"][0]["step"] == single["trace"][0]["step"]);

  const ProcessResult text = db.run({"--now", kLater, "apply", "--verbose"}, input);
  CHECK(text.exit_code == 0);
  CHECK(text.err.starts_with("line 1:\ntrace: compile "));
  CHECK(text.out.starts_with("line 1: ACCEPT  " + id));
}

}  // namespace
}  // namespace runctl::clitest
