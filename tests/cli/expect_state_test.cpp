// set-state --expect-state and apply's "expect_state" (docs/cli.md, docs/apply.md): a script's
// guard against running the same transition twice. A run in another state is refused before any
// rule runs, exit 4, one line naming the state it is in, and nothing is written.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/cli_fixture.hpp"

namespace runctl::clitest {
namespace {

constexpr const char* kNow = "2026-01-01T12:00:00Z";
constexpr const char* kLater = "2026-01-01T12:00:05Z";

TEST_CASE("expect-state: a run in an expected state is orchestrated as without the guard") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kNow, "--state", "PENDING"});
  const Json guarded =
      db.set_state(id, "RUNNING", {"--now", kLater, "--expect-state", "scheduled, PENDING"});
  CHECK(guarded["_exit_code"] == 0);
  CHECK(guarded["status"] == "ACCEPT");
  CHECK(db.show(id)["state"]["type"] == "RUNNING");
  // The same proposal again is refused now: the batch that ran twice adds nothing.
  const std::string before = db.snapshot();
  const ProcessResult again =
      db.run({"--now", kLater, "set-state", id, "RUNNING", "--expect-state", "PENDING"});
  CHECK(again.exit_code == 4);
  CHECK(again.out.empty());
  CHECK(again.err == "runctl: run " + id + " is RUNNING, expected PENDING (nothing was written)\n");
  CHECK(db.snapshot() == before);
}

TEST_CASE("expect-state: the refusal lists every expected type and comes before the policy") {
  CliDb db;
  const std::string id = db.create_task({"--now", kNow, "--state", "COMPLETED"});
  const std::string before = db.snapshot();
  // A missing policy file would be exit 66: the guard is checked first, as the run lookup is.
  const ProcessResult r =
      db.run({"--now", kLater, "set-state", id, "RUNNING", "--expect-state",
              "SCHEDULED,PENDING,RUNNING", "--policy", db.dir() + "/no-such-policy.json"});
  CHECK(r.exit_code == 4);
  CHECK(r.err ==
        "runctl: run " + id +
            " is COMPLETED, expected SCHEDULED, PENDING or RUNNING (nothing was written)\n");
  CHECK(db.snapshot() == before);
  // --dry-run is refused the same way; --force too (the guard is not a rule).
  CHECK(db.run({"--now", kLater, "set-state", id, "RUNNING", "--expect-state", "PENDING",
                "--dry-run"})
            .exit_code == 4);
  CHECK(
      db.run({"--now", kLater, "set-state", id, "RUNNING", "--expect-state", "PENDING", "--force"})
          .exit_code == 4);
  CHECK(db.snapshot() == before);
}

TEST_CASE("expect-state: NONE names a run with no state yet") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kNow});
  const ProcessResult refused =
      db.run({"--now", kLater, "set-state", id, "PENDING", "--expect-state", "RUNNING"});
  CHECK(refused.exit_code == 4);
  CHECK(refused.err ==
        "runctl: run " + id + " has no state, expected RUNNING (nothing was written)\n");
  CHECK(db.set_state(id, "PENDING", {"--now", kLater, "--expect-state", "none"})["_exit_code"] ==
        0);
}

TEST_CASE("expect-state: an unknown type is bad data, checked before the database is opened") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kNow, "--state", "PENDING"});
  const std::string before = db.snapshot();
  for (const std::string list : {"RUNING", "PENDING,", ""}) {
    CAPTURE(list);
    const ProcessResult r = db.run({"set-state", id, "RUNNING", "--expect-state", list});
    CHECK(r.exit_code == 65);
    CHECK(r.err.starts_with("runctl: --expect-state: unknown state type \""));
    CHECK(r.err.find("(expected a comma-separated list of SCHEDULED,") != std::string::npos);
  }
  CHECK(db.snapshot() == before);
}

TEST_CASE("expect-state: apply lines take expect_state as a string or an array") {
  for (const std::string every : {"1", "1000"}) {
    CAPTURE(every);  // each transition committed alone, and all in one group
    CliDb db;
    const std::string a = db.create_flow({"--now", kNow, "--state", "PENDING"});
    const std::string b = db.create_flow({"--now", kNow, "--state", "PENDING"});
    const auto line = [](const std::string& id, const std::string& expect) {
      return R"({"run_id":")" + id + R"(","state":{"type":"RUNNING"},"expect_state":)" + expect +
             "}\n";
    };
    const std::string input = line(a, R"("PENDING")") + line(a, R"("PENDING")") +
                              line(b, R"(["SCHEDULED","pending"])") + line(b, "[]");
    const ProcessResult r =
        db.run({"--now", kLater, "apply", "--json", "--commit-every", every}, input);
    CHECK(r.exit_code == 65);  // the worst line: the malformed one
    std::vector<Json> out;
    for (std::size_t start = 0; start < r.out.size();) {
      const std::size_t end = r.out.find('\n', start);
      out.push_back(Json::parse(r.out.substr(start, end - start)));
      start = end + 1;
    }
    REQUIRE(out.size() == 4);
    CHECK(out[0]["status"] == "ACCEPT");
    CHECK(out[1]["exit_code"] == 4);
    CHECK(out[1]["error"] == "run " + a + " is RUNNING, expected PENDING (nothing was written)");
    CHECK_FALSE(out[1].contains("status"));
    CHECK(out[2]["status"] == "ACCEPT");
    CHECK(out[3]["exit_code"] == 65);
    CHECK(out[3]["error"] ==
          "expect_state: expected a state type, \"TYPE,TYPE\" or an array of types");
    // One RUNNING state each: the refused line wrote nothing.
    CHECK(db.json({"history", a})["states"].size() == 2);
    CHECK(db.json({"history", b})["states"].size() == 2);
    CHECK(db.json({"log", a})["entries"].size() == 2);  // the creation and one transition
  }
}

}  // namespace
}  // namespace runctl::clitest
