// Every runctl command, each with a command line that finds what it needs: for the hardening tests
// that hold the docs' lists of commands (which read the clock, which print a JSON array) to what
// the binary does.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "hardening_support.hpp"

namespace runctl::clitest {

// A database with something for every command to find: a PENDING flow run, a RUNNING task run
// holding a slot of the "db" tag limit, a global limit "g", a deployment whose limit of 1 is held
// by a lease. Everything is stamped at kAt (the lease and the task's RUNNING one second later).
struct EveryCommand {
  static constexpr const char* kAt = "2024-05-01T12:00:00Z";
  static constexpr const char* kLater = "2024-05-01T12:00:01Z";

  CliDb db;
  std::string flow, task, deployment, lease;
  // By command name ("concurrency-limit show"), without global options; in name order, each
  // "create" comes before its "delete", which deletes what it created.
  std::map<std::string, std::vector<std::string>> commands;

  EveryCommand() {
    auto ok = [&](const char* now, std::vector<std::string> args) {
      args.insert(args.begin(), {"--now", now});
      const ProcessResult r = db.run(args);
      REQUIRE_MESSAGE(r.exit_code == 0, CliDb::join(args) << ": " << r.err);
      return r.out.substr(0, r.out.find('\n'));
    };
    flow = ok(kAt, {"flow-run", "create", "--state", "PENDING"});
    ok(kAt, {"concurrency-limit", "create", "--tag", "db", "--limit", "5"});
    task = ok(kAt, {"task-run", "create", "--tags", "db", "--state", "PENDING"});
    ok(kLater, {"set-state", task, "RUNNING"});
    ok(kAt, {"global-limit", "create", "g", "--limit", "5"});
    deployment = ok(kAt, {"deployment", "create", "--concurrency-limit", "1"});
    const std::string deployed =
        ok(kAt, {"flow-run", "create", "--deployment-id", deployment, "--state", "SCHEDULED"});
    ok(kLater, {"set-state", deployed, "PENDING"});
    const Json leases = Json::parse(db.run({"lease", "list", "--json"}).out)["leases"];
    REQUIRE(leases.size() == 1);
    lease = leases[0]["id"];

    commands = {
        {"init", {"init"}},
        {"flow-run create", {"flow-run", "create"}},
        {"task-run create", {"task-run", "create"}},
        {"flow-run list", {"flow-run", "list", "--older-than", "1h"}},
        {"task-run list", {"task-run", "list", "--newer-than", "1h"}},
        {"set-state", {"set-state", flow, "RUNNING"}},
        {"show", {"show", flow}},
        {"history", {"history", flow}},
        {"log", {"log", flow}},
        {"policy list", {"policy", "list"}},
        {"policy show", {"policy", "show", "core-flow"}},
        {"policy matrix", {"policy", "matrix", "core-flow"}},
        {"policy diff", {"policy", "diff", "core-flow", "core-flow"}},
        {"rules", {"rules"}},
        {"task-queue list", {"task-queue", "list"}},
        {"events", {"events"}},
        {"prune", {"prune", "--log-older-than", "30d"}},
        {"concurrency-limit create", {"concurrency-limit", "create", "--tag", "x", "--limit", "1"}},
        {"concurrency-limit list", {"concurrency-limit", "list"}},
        {"concurrency-limit show", {"concurrency-limit", "show", "db"}},
        {"concurrency-limit reset", {"concurrency-limit", "reset", "db"}},
        {"concurrency-limit release", {"concurrency-limit", "release", "db", task}},
        {"concurrency-limit delete", {"concurrency-limit", "delete", "x"}},
        {"global-limit create", {"global-limit", "create", "h", "--limit", "1"}},
        {"global-limit list", {"global-limit", "list"}},
        {"global-limit show", {"global-limit", "show", "g"}},
        {"global-limit update", {"global-limit", "update", "g", "--limit", "6"}},
        {"global-limit delete", {"global-limit", "delete", "h"}},
        {"deployment create", {"deployment", "create"}},
        {"deployment list", {"deployment", "list"}},
        {"deployment show", {"deployment", "show", deployment}},
        {"lease list", {"lease", "list"}},
        {"lease reap", {"lease", "reap"}},
        {"lease release", {"lease", "release", lease}},
    };
  }
};

}  // namespace runctl::clitest
