// Issue 14, items 3 and 12: --now / $RUNCTL_NOW and --seed / $RUNCTL_SEED are read only by the
// commands that use them, and a bad value is named by its source. The commands that read the
// clock are exactly those docs/cli.md lists, and they judge expiry by that one clock.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "hardening_commands.hpp"

namespace runctl::clitest {
namespace {

const std::string kT0 = "2024-05-01T12:00:00Z";

TEST_CASE("hardening 3: a bad RUNCTL_NOW does not break commands that never read the clock") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kT0, "--state", "PENDING"});
  EnvGuard env("RUNCTL_NOW", "garbage");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"show", id},
                                             {"history", id},
                                             {"log", id},
                                             {"rules"},
                                             {"policy", "list"},
                                             {"policy", "show", "core-task"},
                                             {"task-queue", "list"},
                                             {"init"}}) {
    CAPTURE(CliDb::join(args));
    const ProcessResult r = db.run(args);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
  }
  // Where it is read, the message names RUNCTL_NOW, not --now; nothing is written.
  const auto before = db.snapshot();
  check_rejected(db, before, db.run({"set-state", id, "RUNNING"}), 64,
                 "runctl: RUNCTL_NOW: not an ISO 8601 date-time: garbage");
  check_rejected(db, before, db.run({"flow-run", "create"}), 64,
                 "runctl: RUNCTL_NOW: not an ISO 8601 date-time: garbage");
  // --now wins over it, as documented.
  CHECK(db.run({"--now", "2024-05-01T12:00:01Z", "set-state", id, "RUNNING"}).exit_code == 0);
}

TEST_CASE("hardening 3: a bad --now is ignored where the clock is not read, refused where it is") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kT0, "--state", "PENDING"});
  CHECK(db.run({"--now", "yesterday", "show", id}).exit_code == 0);
  CHECK(db.run({"--now", "yesterday", "rules"}).exit_code == 0);
  const auto before = db.snapshot();
  check_rejected(db, before, db.run({"--now", "yesterday", "set-state", id, "RUNNING"}), 64,
                 "runctl: --now: not an ISO 8601 date-time: yesterday");
}

TEST_CASE("hardening 3: a bad RUNCTL_SEED only matters to commands that draw from it") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kT0, "--state", "PENDING"});
  EnvGuard env("RUNCTL_SEED", "not-a-seed");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"show", id}, {"history", id}, {"rules"}, {"policy", "list"}, {"lease", "list"}}) {
    CAPTURE(CliDb::join(args));
    const ProcessResult r = db.run(args);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
  }
  const auto before = db.snapshot();
  check_rejected(
      db, before, db.run({"--now", "2024-05-01T12:00:01Z", "set-state", id, "RUNNING"}), 64,
      "runctl: RUNCTL_SEED: expected an unsigned integer (0 to 18446744073709551615), got "
      "not-a-seed");
  CHECK(db.run({"--seed", "7", "--now", "2024-05-01T12:00:01Z", "set-state", id, "RUNNING"})
            .exit_code == 0);
}

// ---------------------------------------------------------------------------------------------
// Item 12: which commands read the clock.

// EveryCommand's commands and apply, which needs a file of lines.
struct Everything : EveryCommand {
  Everything() {
    const std::string lines = db.dir() + "/lines.jsonl";
    std::ofstream(lines) << "{\"run_id\": \"" << flow
                         << "\", \"state\": {\"type\": \"RUNNING\"}}\n";
    commands["apply"] = {"apply", lines};
  }
};

// The commands named in docs/cli.md's "Commands that read the clock:" line.
std::set<std::string> documented_clock_readers() {
  const std::string cli = source_file("docs/cli.md");
  const auto at = cli.find("Commands that read the clock:");
  REQUIRE_MESSAGE(at != std::string::npos, "docs/cli.md lists no commands that read the clock");
  const std::string line = cli.substr(at, cli.find("\n\n", at) - at);
  std::set<std::string> out;
  const std::regex name("`([a-z -]+)`");
  for (auto it = std::sregex_iterator(line.begin(), line.end(), name); it != std::sregex_iterator();
       ++it)
    out.insert((*it)[1]);
  return out;
}

TEST_CASE("hardening 12: the commands that read the clock are those docs/cli.md names") {
  Everything e;
  std::set<std::string> readers;
  for (const auto& entry : e.commands) {
    const std::string& name = entry.first;  // not a structured binding: clang 14 cannot CAPTURE one
    const std::vector<std::string>& args = entry.second;
    CAPTURE(name);
    std::vector<std::string> with{"--now", "not-a-time"};
    with.insert(with.end(), args.begin(), args.end());
    const auto before = e.db.snapshot();
    const ProcessResult r = e.db.run(with);
    if (r.exit_code == 64 && r.err.find("--now") != std::string::npos) {
      readers.insert(name);
      // A command that reads the clock reads it before it writes anything.
      check_rejected(e.db, before, r, 64, "runctl: --now: not an ISO 8601 date-time: not-a-time");
    } else {
      CHECK(r.err.find("--now") == std::string::npos);
    }
  }
  CHECK(readers == documented_clock_readers());
}

TEST_CASE("hardening 12: expiry is judged by --now when given, else by the system clock") {
  Everything e;
  const std::string past = "2024-05-01T12:00:02Z";  // the lease, taken at kLater, is still fresh
  auto expired_in_list = [&](std::vector<std::string> clock) {
    std::vector<std::string> args = clock;
    args.insert(args.end(), {"lease", "list", "--json"});
    const ProcessResult r = e.db.run(args);
    REQUIRE(r.exit_code == 0);
    return Json::parse(r.out).at("leases").at(0).at("expired").get<bool>();
  };
  CHECK_FALSE(expired_in_list({"--now", past}));
  // The system clock is long past 2024-05-01T12:00 plus the lease's TTL.
  CHECK(expired_in_list({}));
  {
    EnvGuard env("RUNCTL_NOW", past);
    CHECK_FALSE(expired_in_list({}));
  }
  // lease reap frees it only by the clock it reads.
  const Json kept = Json::parse(e.db.run({"--now", past, "lease", "reap", "--json"}).out);
  CHECK(kept["reaped"].empty());
  const Json freed = Json::parse(e.db.run({"lease", "reap", "--json"}).out);
  CHECK(freed["reaped"].size() == 1);
}

}  // namespace
}  // namespace runctl::clitest
