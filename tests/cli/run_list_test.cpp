// flow-run list and task-run list (docs/cli.md): filters that compose, oldest current state
// first, a limit that says when more runs match, and one JSON object with the list.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/cli_fixture.hpp"

namespace runctl::clitest {
namespace {

constexpr const char* kT0 = "2026-01-01T10:00:00Z";
constexpr const char* kT1 = "2026-01-01T11:00:00Z";
constexpr const char* kT2 = "2026-01-01T11:50:00Z";
constexpr const char* kNow = "2026-01-01T12:00:00Z";

std::vector<std::string> ids_of(const Json& listed) {
  std::vector<std::string> ids;
  for (const Json& run : listed["runs"]) ids.push_back(run["run_id"].get<std::string>());
  return ids;
}

Json list(const CliDb& db, const std::string& kind, std::vector<std::string> args) {
  args.insert(args.begin(), {"--now", kNow, kind + "-run", "list"});
  return db.json(args, 0);
}

TEST_CASE("run list: by state, oldest current state first, stuck for an hour is one command") {
  CliDb db;
  const std::string old_running = db.create_flow({"--now", kT0, "--state", "RUNNING"});
  const std::string pending = db.create_flow({"--now", kT0, "--state", "PENDING"});
  const std::string running = db.create_flow({"--now", kT1, "--state", "RUNNING"});
  const std::string fresh = db.create_flow({"--now", kT2, "--state", "RUNNING"});
  const std::string no_state = db.create_flow({"--now", kT0});

  CHECK(ids_of(list(db, "flow", {"--state", "running"})) ==
        std::vector<std::string>{old_running, running, fresh});
  CHECK(ids_of(list(db, "flow", {"--state", "RUNNING", "--older-than", "1h"})) ==
        std::vector<std::string>{old_running});
  CHECK(ids_of(list(db, "flow", {"--state", "RUNNING", "--older-than", "30m"})) ==
        std::vector<std::string>{old_running, running});
  CHECK(ids_of(list(db, "flow", {"--state", "RUNNING", "--newer-than", "1h30m"})) ==
        std::vector<std::string>{running, fresh});
  CHECK(ids_of(list(db, "flow", {"--state", "PENDING,NONE"})) ==
        std::vector<std::string>{no_state, pending});
  // Two states entered at the same time: by id.
  std::vector<std::string> both{old_running, pending};
  std::sort(both.begin(), both.end());
  CHECK(ids_of(list(db, "flow",
                    {"--state", "PENDING", "--state", "RUNNING", "--older-than", "3600"})) == both);
  // No filter: every run, those with no state first.
  CHECK(ids_of(list(db, "flow", {})).size() == 5);
  CHECK(ids_of(list(db, "flow", {})).front() == no_state);
  // Task runs are listed apart.
  CHECK(ids_of(list(db, "task", {})).empty());
}

TEST_CASE("run list: --limit cuts the list and says so, in JSON and on stderr") {
  CliDb db;
  std::vector<std::string> ids;
  for (const char* at : {kT0, kT1, kT2})
    ids.push_back(db.create_flow({"--now", at, "--state", "SCHEDULED"}));
  const Json cut = list(db, "flow", {"--limit", "2"});
  CHECK(ids_of(cut) == std::vector<std::string>{ids[0], ids[1]});
  CHECK(cut["truncated"] == true);
  CHECK(cut["limit"] == 2);
  const Json whole = list(db, "flow", {"--limit", "3"});
  CHECK(whole["truncated"] == false);
  CHECK(ids_of(whole) == ids);
  // Each entry is the run as show --json has it, without the state object, run_id first.
  const Json& first = whole["runs"][0];
  CHECK(first["run_id"] == ids[0]);
  CHECK(first["run_kind"] == "flow");
  CHECK(first["id"] == ids[0]);
  CHECK(first["state_type"] == "SCHEDULED");
  CHECK(first["state_timestamp"] == "2026-01-01T10:00:00.000000+00:00");
  CHECK_FALSE(first.contains("state"));

  const ProcessResult text = db.run({"--now", kNow, "flow-run", "list", "--limit", "1"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.starts_with(ids[0] + "  SCHEDULED 'Scheduled' since 2026-01-01T10:00:00"));
  CHECK(std::count(text.out.begin(), text.out.end(), '\n') == 1);
  CHECK(text.err == "runctl: the first 1 runs are shown and more match (use --limit for more)\n");
}

TEST_CASE("run list: name globs, tags, deployments and a flow run's task runs compose") {
  CliDb db;
  const std::string etl = db.create_flow(
      {"--name", "nightly-etl", "--tags", "etl,prod", "--now", kT0, "--state", "RUNNING"});
  const std::string report = db.create_flow(
      {"--name", "nightly-report", "--tags", "prod", "--now", kT1, "--state", "RUNNING"});
  const std::string adhoc =
      db.create_flow({"--name", "adhoc", "--tags", "etl", "--now", kT1, "--state", "RUNNING"});
  CHECK(ids_of(list(db, "flow", {"--name", "nightly-*"})) == std::vector<std::string>{etl, report});
  CHECK(ids_of(list(db, "flow", {"--name", "nightly-???"})) == std::vector<std::string>{etl});
  CHECK(ids_of(list(db, "flow", {"--name", "[a-m]*"})) == std::vector<std::string>{adhoc});
  CHECK(ids_of(list(db, "flow", {"--name", "[^a]*"})) == std::vector<std::string>{etl, report});
  CHECK(ids_of(list(db, "flow", {"--tag", "etl"})) == std::vector<std::string>{etl, adhoc});
  CHECK(ids_of(list(db, "flow", {"--tag", "etl", "--name", "nightly*"})) ==
        std::vector<std::string>{etl});
  CHECK(ids_of(list(db, "flow", {"--tag", "et"})).empty());  // a whole tag, not a substring

  const std::string task_a = db.create_task({"--flow-run", etl, "--now", kT0, "--state", "FAILED"});
  const std::string task_b =
      db.create_task({"--flow-run", etl, "--now", kT1, "--state", "COMPLETED"});
  db.create_task({"--flow-run", report, "--now", kT0, "--state", "FAILED"});
  CHECK(ids_of(list(db, "task", {"--flow-run", etl})) == std::vector<std::string>{task_a, task_b});
  CHECK(ids_of(list(db, "task", {"--flow-run", etl, "--state", "FAILED"})) ==
        std::vector<std::string>{task_a});
  CHECK(ids_of(list(db, "task", {"--flow-run", adhoc})).empty());

  const std::string deployment =
      db.json({"deployment", "create", "--flow-name", "etl"}, 0)["id"].get<std::string>();
  const std::string deployed =
      db.create_flow({"--deployment-id", deployment, "--now", kT2, "--state", "PENDING"});
  CHECK(ids_of(list(db, "flow", {"--deployment", deployment})) ==
        std::vector<std::string>{deployed});
}

TEST_CASE("run list: bad filters are one line each, with their exit code") {
  CliDb db;
  db.create_flow({"--now", kT0, "--state", "RUNNING"});
  const auto error = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--now", kNow, "flow-run", "list"});
    return db.run(args);
  };
  ProcessResult r = error({"--older-than", "an hour"});
  CHECK(r.exit_code == 64);
  CHECK(r.err ==
        "runctl: --older-than: expected a duration such as 90s, 15m, 1h30m or 2d, got \"an "
        "hour\"\n");
  CHECK(error({"--newer-than", "1h30"}).exit_code == 64);
  CHECK(error({"--older-than", "-5m"}).exit_code == 64);
  r = error({"--state", "STUCK"});
  CHECK(r.exit_code == 65);
  CHECK(r.err.starts_with("runctl: --state: unknown state type \"STUCK\""));
  CHECK(error({"--deployment", "nope"}).exit_code == 65);
  CHECK(error({"--limit", "0"}).exit_code == 64);
  // A missing database is not created by a listing.
  const ProcessResult missing =
      run_process({runctl_binary(), "--db", db.dir() + "/none.db", "flow-run", "list"});
  CHECK(missing.exit_code == 66);
}

}  // namespace
}  // namespace runctl::clitest
