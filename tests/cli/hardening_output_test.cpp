// Issue 14, item 2: output that cannot be written. With stdout on /dev/full every command exits
// 74 with one line saying so, instead of 0 with its output lost; a command that had already
// committed says that too, since running it again would do it twice.
#include <doctest/doctest.h>

#include "hardening_support.hpp"

namespace runctl::clitest {
namespace {

const std::string kLost = "runctl: cannot write output: No space left on device";
const std::string kLostCommitted =
    "runctl: cannot write output: No space left on device (the change was committed)";

struct Fixture {
  CliDb db;
  std::string flow, task;
  Fixture() {
    flow = db.create_flow({"--now", "2026-01-01T12:00:00Z", "--state", "PENDING"});
    task = db.create_task({"--now", "2026-01-01T12:00:00Z", "--state", "PENDING"});
  }
};

TEST_CASE("hardening 2: read commands to a full stdout exit 74, nothing written") {
  Fixture f;
  const auto before = f.db.snapshot();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"show", f.flow},
                                             {"show", f.flow, "--json"},
                                             {"history", f.flow},
                                             {"log", f.task, "--json"},
                                             {"rules"},
                                             {"rules", "--json"},
                                             {"policy", "list"},
                                             {"policy", "show", "core-flow"},
                                             {"events", "--json"},
                                             {"lease", "list", "--json"},
                                             {"--help"},
                                             {"--version"},
                                             {"set-state", "--help"}}) {
    CAPTURE(CliDb::join(args));
    check_rejected(f.db, before, run_to_dev_full(f.db, args), 74, kLost);
  }
}

TEST_CASE("hardening 2: flow-run create to a full stdout says the run was created") {
  Fixture f;
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
      {"00000000-0000-4000-8000-000000000001", {"flow-run", "create", "--json"}},
      {"00000000-0000-4000-8000-000000000002", {"flow-run", "create"}},
      {"00000000-0000-4000-8000-000000000003", {"task-run", "create", "--state", "PENDING"}}};
  for (const auto& [id, create] : cases) {
    std::vector<std::string> args = create;
    args.insert(args.end(), {"--id", id});
    CAPTURE(CliDb::join(args));
    check_rejected(run_to_dev_full(f.db, args), 74, kLostCommitted);
    // The run exists although its id was never printed: the message is what tells the user.
    CHECK(f.db.show(id)["id"] == id);
  }
  // Many runs, many lines: the same.
  check_rejected(run_to_dev_full(f.db, {"task-run", "create", "--count", "3"}), 74, kLostCommitted);
}

TEST_CASE("hardening 2: set-state to a full stdout is 74 after the commit, not 0") {
  Fixture f;
  const ProcessResult r = run_to_dev_full(
      f.db, {"--now", "2026-01-01T12:00:01Z", "set-state", f.flow, "RUNNING", "--json"});
  check_rejected(r, 74, kLostCommitted);
  CHECK(f.db.show(f.flow)["state_type"] == "RUNNING");

  // A dry run commits nothing, and says nothing about a commit.
  const auto before = f.db.snapshot();
  check_rejected(f.db, before,
                 run_to_dev_full(f.db, {"--now", "2026-01-01T12:00:02Z", "set-state", f.flow,
                                        "COMPLETED", "--dry-run"}),
                 74, kLost);
}

TEST_CASE("hardening 2: concurrency writes to a full stdout say they committed") {
  Fixture f;
  check_rejected(
      run_to_dev_full(f.db, {"concurrency-limit", "create", "--tag", "db", "--limit", "2"}), 74,
      kLostCommitted);
  CHECK(f.db.json({"concurrency-limit", "show", "db"}, 0)["concurrency_limit"] == 2);
  check_rejected(run_to_dev_full(f.db, {"init", "--json"}), 74, kLostCommitted);
}

TEST_CASE("hardening 2: apply to a full stdout keeps its own 74") {
  Fixture f;
  const std::string lines = f.db.dir() + "/lines.jsonl";
  std::ofstream(lines) << "{\"run_id\": \"" << f.flow
                       << "\", \"state\": {\"type\": \"RUNNING\"}}\n";
  const ProcessResult r = run_to_dev_full(f.db, {"--now", "2026-01-01T12:00:01Z", "apply", lines});
  check_rejected(r, 74, "runctl: apply: cannot write results: No space left on device");
}

}  // namespace
}  // namespace runctl::clitest
