// Short ids and names (docs/cli.md, "Naming runs"): wherever a command takes an existing run,
// deployment or lease, a unique prefix of at least 4 hex characters of its id works, as in git,
// and so does a unique run or deployment name. An ambiguous reference is refused with exit 65,
// listing at most 10 candidates, and writes nothing. The ids are chosen (create --id, or the
// repository API for leases) so that they collide on purpose.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/cli_fixture.hpp"

namespace runctl::clitest {
namespace {

constexpr const char* kNow = "2026-01-01T12:00:00Z";
constexpr const char* kLater = "2026-01-01T12:00:05Z";

// "abcd" + n, padded into a canonical id: every id of one stem shares the stem as a prefix.
std::string id_with(const std::string& stem, int n) {
  std::string tail = std::to_string(n);
  std::string hex = stem + std::string(32 - stem.size() - tail.size(), '0') + tail;
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string create_run(const CliDb& db, const std::string& kind, const std::string& id,
                       const std::string& name) {
  return db.create(kind, {"--now", kNow, "--id", id, "--name", name, "--state", "SCHEDULED"});
}

// How many ids a stderr line lists: each is followed by its name in parentheses.
int listed(const std::string& err) {
  int n = 0;
  for (std::size_t at = err.find(" ("); at != std::string::npos; at = err.find(" (", at + 1)) ++n;
  return n;
}

TEST_CASE("short ids: a unique prefix works for set-state, show, history, log and transitions") {
  CliDb db;
  const std::string id = create_run(db, "flow", id_with("abcd1", 1), "one");
  create_run(db, "flow", id_with("abcd2", 2), "two");

  const Json set = db.set_state("abcd1", "PENDING", {"--now", kLater});
  CHECK(set["_exit_code"] == 0);
  CHECK(set["run_id"] == id);
  CHECK(db.show("abcd1")["state"]["type"] == "PENDING");
  // A prefix with the id's dashes, and in upper case.
  CHECK(db.show(id.substr(0, 10))["id"] == id);
  CHECK(db.json({"history", "ABCD1"}, 0)["run_id"] == id);
  CHECK(db.json({"log", "AbCd1"}, 0)["entries"].size() == 2);
  CHECK(db.json({"transitions", "abcd1"}, 0)["run_id"] == id);
  // A full id in upper case is canonicalised, as before.
  CHECK(db.show(std::string("ABCD1") + id.substr(5))["id"] == id);
}

TEST_CASE("short ids: a run's exact name works, for either kind") {
  CliDb db;
  const std::string flow = create_run(db, "flow", id_with("1111", 1), "nightly-etl");
  const std::string task = create_run(db, "task", id_with("2222", 1), "load-table");
  CHECK(db.show("nightly-etl")["id"] == flow);
  const Json task_show = db.show("load-table");
  CHECK(task_show["id"] == task);
  CHECK(db.set_state("load-table", "PENDING", {"--now", kLater})["run_id"] == task);
  // A task run of a flow run named by its name; the flow-run list filter takes it too.
  const std::string child =
      db.create_task({"--now", kNow, "--flow-run", "nightly-etl", "--name", "child"});
  CHECK(db.show(child)["flow_run_id"] == flow);
  const Json listing = db.json({"task-run", "list", "--flow-run", "1111"}, 0);
  REQUIRE(listing["runs"].size() == 1);
  CHECK(listing["runs"][0]["id"] == child);
  // A name that looks like a prefix but matches no id is still a name.
  const std::string named_hex = create_run(db, "flow", id_with("3333", 1), "cafe");
  CHECK(db.show("cafe")["id"] == named_hex);
}

TEST_CASE("short ids: an ambiguous prefix lists at most 10 candidates, exit 65, nothing written") {
  CliDb db;
  for (int i = 0; i < 12; ++i)
    create_run(db, i % 2 ? "task" : "flow", id_with("abcd", i), "run-" + std::to_string(i));
  const std::string before = db.snapshot();
  const ProcessResult r = db.run({"--now", kLater, "set-state", "abcd", "RUNNING"});
  CHECK(r.exit_code == 65);
  CHECK(r.out.empty());
  CHECK(r.err.starts_with("runctl: run ID prefix \"abcd\" is ambiguous: 12 runs match: "));
  CHECK(r.err.ends_with(" and 2 more\n"));
  CHECK(r.err.find('\n') == r.err.size() - 1);  // one line
  CHECK(listed(r.err) == 10);
  CHECK(r.err.find(id_with("abcd", 0) + " (run-0)") != std::string::npos);
  CHECK(db.snapshot() == before);

  // A longer prefix narrows it down: ids ...00 to ...09 share all but their last character, and
  // ten candidates are all listed.
  const ProcessResult ten = db.run({"show", id_with("abcd", 1).substr(0, 35)});
  CHECK(ten.exit_code == 65);
  CHECK(ten.err.find(" 10 runs match: ") != std::string::npos);
  CHECK(listed(ten.err) == 10);
  CHECK(ten.err.find(" more") == std::string::npos);
  CHECK(db.show(id_with("abcd", 11))["name"] == "run-11");
}

TEST_CASE("short ids: an ambiguous name lists its runs, exit 65") {
  CliDb db;
  const std::string a = create_run(db, "flow", id_with("aaaa", 1), "daily");
  const std::string b = create_run(db, "task", id_with("bbbb", 1), "daily");
  const std::string before = db.snapshot();
  const ProcessResult r = db.run({"--now", kLater, "set-state", "daily", "RUNNING"});
  CHECK(r.exit_code == 65);
  CHECK(r.err == "runctl: run name \"daily\" is ambiguous: 2 runs match: " + a + " (daily), " + b +
                     " (daily)\n");
  CHECK(db.snapshot() == before);
}

TEST_CASE("short ids: fewer than 4 hex characters, or no such name, is refused with exit 65") {
  CliDb db;
  create_run(db, "flow", id_with("abcd", 1), "one");
  const std::string before = db.snapshot();
  for (const std::string& text : {std::string("abc"), std::string("no-such-run")}) {
    const ProcessResult r = db.run({"show", text});
    CHECK(r.exit_code == 65);
    CHECK(r.err == "runctl: not a run id or name: \"" + text +
                       "\" (a run id, a prefix of at least 4 hex characters, or a run name)\n");
  }
  CHECK(db.run({"--now", kLater, "set-state", "abc", "RUNNING"}).exit_code == 65);
  CHECK(db.snapshot() == before);
}

TEST_CASE("short ids: a prefix or full id that matches nothing exits 66") {
  CliDb db;
  create_run(db, "flow", id_with("abcd", 1), "one");
  const ProcessResult r = db.run({"show", "FFFF"});
  CHECK(r.exit_code == 66);
  CHECK(r.err ==
        "runctl: run ID prefix \"ffff\" not found: no run id begins with it and no run has that "
        "name\n");
  // An unknown full id keeps its wording.
  const std::string unknown = id_with("ffff", 9);
  const ProcessResult full = db.run({"show", unknown});
  CHECK(full.exit_code == 66);
  CHECK(full.err == "runctl: run " + unknown + " not found\n");
}

TEST_CASE("short ids: a kind-specific option looks among runs of that kind only") {
  CliDb db;
  const std::string flow = create_run(db, "flow", id_with("beef", 1), "f");
  const std::string task = create_run(db, "task", id_with("beef", 2), "t");
  // `show beef` could mean either...
  const ProcessResult r = db.run({"show", "beef"});
  CHECK(r.exit_code == 65);
  CHECK(r.err.find(flow + " (f), " + task + " (t)") != std::string::npos);
  // ...but --flow-run and --parent-task-run each take one kind.
  const std::string child = db.create_task({"--now", kNow, "--flow-run", "beef"});
  CHECK(db.show(child)["flow_run_id"] == flow);
  const std::string sub = db.create_flow({"--now", kNow, "--parent-task-run", "beef"});
  CHECK(db.show(sub)["parent_task_run_id"] == task);
}

TEST_CASE("short ids: deployments by prefix or name, leases by prefix") {
  CliDb db;
  const std::string d1 = id_with("dddd1", 1);
  const std::string d2 = id_with("dddd2", 2);
  CHECK(db.json({"--now", kNow, "deployment", "create", "--id", d1, "--name", "etl"}, 0)["id"] ==
        d1);
  db.json({"--now", kNow, "deployment", "create", "--id", d2, "--name", "report"}, 0);
  CHECK(db.json({"--now", kNow, "deployment", "show", "DDDD1"}, 0)["id"] == d1);
  CHECK(db.json({"--now", kNow, "deployment", "show", "report"}, 0)["id"] == d2);
  const ProcessResult ambiguous = db.run({"--now", kNow, "deployment", "show", "dddd"});
  CHECK(ambiguous.exit_code == 65);
  CHECK(ambiguous.err ==
        "runctl: deployment ID prefix \"dddd\" is ambiguous: 2 deployments "
        "match: " +
            d1 + " (etl), " + d2 + " (report)\n");
  const std::string run = db.create_flow({"--now", kNow, "--deployment-id", "dddd2"});
  CHECK(db.show(run)["deployment_id"] == d2);
  const Json listing = db.json({"flow-run", "list", "--deployment", "report"}, 0);
  REQUIRE(listing["runs"].size() == 1);
  CHECK(listing["runs"][0]["id"] == run);

  // Two leases whose ids share "1ea5", inserted through the repository API.
  {
    const std::unique_ptr<Database> store = db.open();
    for (int i = 1; i <= 2; ++i) {
      Lease lease;
      lease.id = id_with("1ea5" + std::to_string(i), i);
      lease.resource_ids = {id_with("0000", 7)};
      lease.created_at = timestamp(kNow);
      lease.expiration = timestamp(kLater);
      store->concurrency().insert_lease(lease);
    }
  }
  const std::string before = db.snapshot();
  const ProcessResult two = db.run({"--now", kNow, "lease", "release", "1ea5"});
  CHECK(two.exit_code == 65);
  CHECK(two.err == "runctl: lease ID prefix \"1ea5\" is ambiguous: 2 leases match: " +
                       id_with("1ea51", 1) + ", " + id_with("1ea52", 2) + "\n");
  CHECK(db.snapshot() == before);
  const Json released = db.json({"--now", kNow, "lease", "release", "1EA52"}, 0);
  CHECK(released["released"]["id"] == id_with("1ea52", 2));
  // A lease has no name: anything but an id or a prefix is not a lease.
  const ProcessResult named = db.run({"--now", kNow, "lease", "release", "etl"});
  CHECK(named.exit_code == 65);
  CHECK(named.err ==
        "runctl: not a lease id: \"etl\" (a lease id or a prefix of at least 4 hex "
        "characters)\n");
  CHECK(db.run({"--now", kNow, "lease", "release", "1ea52"}).exit_code == 66);
}

}  // namespace
}  // namespace runctl::clitest
