// --limit and --since on history, log and events (docs/cli.md, "Bounded output"): the newest N
// entries in the usual order, entries strictly older than --since left out, a stderr line in
// text mode when entries were cut, JSON shapes unchanged without --limit, and bad values exit 64.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/cli_fixture.hpp"

namespace runctl::clitest {
namespace {

constexpr const char* kT0 = "2026-01-01T12:00:00Z";
constexpr const char* kT1 = "2026-01-01T12:01:00Z";
constexpr const char* kT2 = "2026-01-01T12:02:00Z";
constexpr const char* kT3 = "2026-01-01T12:03:00Z";

// A flow run that went SCHEDULED (T0), PENDING (T1), RUNNING (T2), COMPLETED (T3): four states,
// four log entries and four events, one a minute.
std::string four_step_run(const CliDb& db) {
  const std::string id = db.create_flow({"--now", kT0, "--state", "SCHEDULED"});
  REQUIRE(db.set_state(id, "PENDING", {"--now", kT1})["_exit_code"] == 0);
  REQUIRE(db.set_state(id, "RUNNING", {"--now", kT2})["_exit_code"] == 0);
  REQUIRE(db.set_state(id, "COMPLETED", {"--now", kT3})["_exit_code"] == 0);
  return id;
}

std::vector<std::string> types_of(const Json& states) {
  std::vector<std::string> out;
  for (const Json& s : states) out.push_back(s["type"].get<std::string>());
  return out;
}

std::vector<std::string> proposed_of(const Json& entries) {
  std::vector<std::string> out;
  for (const Json& e : entries) out.push_back(e["proposed_state"]["type"].get<std::string>());
  return out;
}

std::vector<std::string> events_of(const Json& events) {
  std::vector<std::string> out;
  for (const Json& e : events) out.push_back(e["event"].get<std::string>());
  return out;
}

std::size_t line_count(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

using Strings = std::vector<std::string>;

// The array of the object `events ARGS --json` prints.
Json events_json(const CliDb& db, Strings args) {
  args.insert(args.begin(), "events");
  args.push_back("--json");
  const ProcessResult r = db.run(args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const Json out = Json::parse(r.out);
  REQUIRE(out.is_object());
  REQUIRE(out.at("events").is_array());
  return out.at("events");
}

TEST_CASE("bounded output: history --limit keeps the newest states, oldest first") {
  CliDb db;
  const std::string id = four_step_run(db);
  const Json cut = db.json({"history", id, "--limit", "2"}, 0);
  CHECK(types_of(cut["states"]) == Strings{"RUNNING", "COMPLETED"});
  CHECK(cut["truncated"] == true);
  CHECK(cut["limit"] == 2);
  const Json whole = db.json({"history", id, "--limit", "4"}, 0);
  CHECK(types_of(whole["states"]) == Strings{"SCHEDULED", "PENDING", "RUNNING", "COMPLETED"});
  CHECK(whole["truncated"] == false);

  // Without --limit the object is what it always was: no new keys.
  Json plain = db.json({"history", id}, 0);
  plain.erase("_exit_code");
  CHECK(plain.size() == 3);
  CHECK(!plain.contains("truncated"));

  const ProcessResult text = db.run({"history", id, "--limit", "1"});
  CHECK(text.exit_code == 0);
  CHECK(line_count(text.out) == 1);
  CHECK(text.out.find("COMPLETED") != std::string::npos);
  CHECK(text.err == "runctl: the last 1 states are shown and more match (use --limit for more)\n");
  // Nothing cut, nothing said.
  CHECK(db.run({"history", id, "--limit", "4"}).err.empty());
}

TEST_CASE("bounded output: history --since leaves out states strictly older") {
  CliDb db;
  const std::string id = four_step_run(db);
  // At the boundary a state is kept: only strictly older ones go.
  CHECK(types_of(db.json({"history", id, "--since", kT2}, 0)["states"]) ==
        Strings{"RUNNING", "COMPLETED"});
  // A duration counts back from the clock: 12:03:30 less 90s is 12:02:00.
  CHECK(types_of(db.json({"--now", "2026-01-01T12:03:30Z", "history", id, "--since", "90s"},
                         0)["states"]) == Strings{"RUNNING", "COMPLETED"});
  // Both: the newest one of those since T1.
  const Json both = db.json({"history", id, "--since", kT1, "--limit", "1"}, 0);
  CHECK(types_of(both["states"]) == Strings{"COMPLETED"});
  CHECK(both["truncated"] == true);
  CHECK(db.json({"history", id, "--since", "2026-01-02"}, 0)["states"].empty());
}

TEST_CASE("bounded output: log --limit and --since, in id order, with where the run went") {
  CliDb db;
  const std::string id = four_step_run(db);
  const Json cut = db.json({"log", id, "--limit", "3"}, 0);
  CHECK(proposed_of(cut["entries"]) == Strings{"PENDING", "RUNNING", "COMPLETED"});
  CHECK(cut["entries"][0]["id"] < cut["entries"][1]["id"]);
  CHECK(cut["truncated"] == true);
  CHECK(cut["limit"] == 3);
  Json plain = db.json({"log", id, "--since", kT3}, 0);
  CHECK(proposed_of(plain["entries"]) == Strings{"COMPLETED"});
  CHECK(!plain.contains("truncated"));  // --since alone keeps the shape

  // The text still says where each run went, though only the states named are read.
  const ProcessResult text = db.run({"log", id, "--limit", "2"});
  CHECK(text.exit_code == 0);
  CHECK(line_count(text.out) == 4);
  CHECK(text.out.find("=> RUNNING 'Running'") != std::string::npos);
  CHECK(text.out.find("=> COMPLETED 'Completed'") != std::string::npos);
  CHECK(text.out.find("PENDING 'Pending'") == std::string::npos);
  CHECK(text.err ==
        "runctl: the last 2 log entries are shown and more match (use --limit for more)\n");
}

TEST_CASE("bounded output: events --limit and --since") {
  CliDb db;
  const std::string id = four_step_run(db);
  const Json all = events_json(db, {"--run", id});
  REQUIRE(all.size() == 4);
  // The array stays an array: truncation is told on stderr only.
  const Json cut = events_json(db, {"--run", id, "--limit", "2"});
  CHECK(events_of(cut) == Strings{"prefect.flow-run.Running", "prefect.flow-run.Completed"});
  CHECK(events_of(events_json(db, {"--limit", "1"})) == Strings{"prefect.flow-run.Completed"});
  CHECK(events_of(events_json(db, {"--run", id, "--since", kT2})) ==
        Strings{"prefect.flow-run.Running", "prefect.flow-run.Completed"});
  CHECK(events_json(db, {"--run", id, "--limit", "100"}) == all);

  const ProcessResult text = db.run({"events", "--run", id, "--limit", "1"});
  CHECK(text.exit_code == 0);
  CHECK(line_count(text.out) == 1);
  CHECK(text.out.find("prefect.flow-run.Completed") != std::string::npos);
  CHECK(text.err == "runctl: the last 1 events are shown and more match (use --limit for more)\n");
}

TEST_CASE("bounded output: a bad --limit or --since exits 64 with one line") {
  CliDb db;
  const std::string id = four_step_run(db);
  for (const std::vector<std::string>& command :
       {Strings{"history", id}, Strings{"log", id}, Strings{"events"}}) {
    for (const char* bad : {"0", "-3", "ten", "1.5", ""}) {
      Strings args = command;
      args.insert(args.end(), {"--limit", bad});
      const ProcessResult r = db.run(args);
      INFO(CliDb::join(args));
      CHECK(r.exit_code == 64);
      CHECK(r.out.empty());
      CHECK(r.err ==
            "runctl: --limit: expected a positive integer, got " + std::string(bad) + "\n");
    }
    Strings args = command;
    args.insert(args.end(), {"--since", "soon"});
    const ProcessResult r = db.run(args);
    CHECK(r.exit_code == 64);
    CHECK(r.err ==
          "runctl: --since: expected an ISO 8601 time or a duration such as 90s, 15m, 1h30m or "
          "2d, got \"soon\"\n");
  }
}

}  // namespace
}  // namespace runctl::clitest
