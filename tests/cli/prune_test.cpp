// prune --log-older-than (docs/cli.md, "prune"): deletes exactly the log rows (attempts and their
// events) older than the clock less the duration, in batches, keeps states and runs, writes
// nothing on a dry run or a bad flag, and with --vacuum gives the space back to the file system.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli_fixture.hpp"

namespace runctl::clitest {
namespace {

constexpr const char* kT0 = "2026-01-01T12:00:00Z";
constexpr const char* kT1 = "2026-01-01T13:00:00Z";
constexpr const char* kT2 = "2026-01-01T14:00:00Z";
// One hour after kT2: --log-older-than 90m cuts at 13:30, between kT1 and kT2.
constexpr const char* kPruneAt = "2026-01-01T15:00:00Z";
constexpr const char* kCutoff = "2026-01-01T13:30:00.000000+00:00";

// Three attempts an hour apart: SCHEDULED at T0 (the creation), PENDING at T1, RUNNING at T2.
std::string three_step_run(const CliDb& db) {
  const std::string id = db.create_flow({"--now", kT0, "--state", "SCHEDULED"});
  REQUIRE(db.set_state(id, "PENDING", {"--now", kT1})["_exit_code"] == 0);
  REQUIRE(db.set_state(id, "RUNNING", {"--now", kT2})["_exit_code"] == 0);
  return id;
}

std::vector<std::string> log_times(const CliDb& db, const std::string& id) {
  const Json log = db.json({"log", id}, 0);
  std::vector<std::string> out;
  for (const Json& e : log["entries"]) out.push_back(e["at"]);
  return out;
}

Json prune(const CliDb& db, std::vector<std::string> extra, int expected_exit = 0) {
  std::vector<std::string> args{"--now", kPruneAt, "prune", "--log-older-than", "90m"};
  args.insert(args.end(), extra.begin(), extra.end());
  return db.json(args, expected_exit);
}

std::uintmax_t file_bytes(const CliDb& db) {
  std::uintmax_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(db.path() + suffix, ec);
    if (!ec) total += size;
  }
  return total;
}

using Strings = std::vector<std::string>;

// The events of a run: the array `events --json` prints in its object.
Json events_of(const CliDb& db, const std::string& run_id) {
  const ProcessResult r = db.run({"events", "--run", run_id, "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return Json::parse(r.out).at("events");
}

TEST_CASE("prune: deletes exactly the log rows older than the cutoff, and their events") {
  CliDb db;
  const std::string a = three_step_run(db);
  const std::string b = three_step_run(db);
  const Json history_before = db.json({"history", a}, 0);
  const std::size_t events_before = events_of(db, a).size();

  const Json out = prune(db, {});
  CHECK(out["deleted_rows"] == 4);  // T0 and T1 of both runs
  CHECK(out["cutoff"] == kCutoff);
  CHECK(out["dry_run"] == false);
  CHECK(out["vacuumed"] == false);
  CHECK(out["freed_bytes"].is_number_integer());
  CHECK(out["freed_bytes"] >= 0);

  for (const std::string& id : {a, b})
    CHECK(log_times(db, id) == Strings{"2026-01-01T14:00:00.000000+00:00"});
  // States are kept: history and show read as before.
  CHECK(db.json({"history", a}, 0) == history_before);
  // The events of the deleted attempts went with them.
  const Json events = events_of(db, a);
  CHECK(events.size() < events_before);
  for (const Json& e : events) CHECK(e["occurred"].get<std::string>() >= std::string(kCutoff));

  // Again: nothing older is left.
  CHECK(prune(db, {})["deleted_rows"] == 0);
  CHECK(db.set_state(a, "COMPLETED", {"--now", kPruneAt})["_exit_code"] == 0);
}

TEST_CASE("prune: text output counts the rows and the bytes") {
  CliDb db;
  three_step_run(db);
  const ProcessResult r = db.run({"--now", kPruneAt, "prune", "--log-older-than", "90m"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.starts_with(std::string("pruned 2 log rows older than ") + kCutoff + "; freed "));
}

TEST_CASE("prune: --dry-run counts and writes nothing") {
  CliDb db;
  const std::string id = three_step_run(db);
  const std::string before = db.snapshot();
  const Json out = prune(db, {"--dry-run"});
  CHECK(out["deleted_rows"] == 2);
  CHECK(out["dry_run"] == true);
  CHECK(out["freed_bytes"] == 0);
  CHECK(prune(db, {"--dry-run", "--vacuum"})["vacuumed"] == false);
  const ProcessResult text =
      db.run({"--now", kPruneAt, "prune", "--log-older-than", "90m", "--dry-run"});
  CHECK(text.out == std::string("would prune 2 log rows older than ") + kCutoff +
                        " (dry run: nothing deleted)\n");
  CHECK(db.snapshot() == before);
  CHECK(log_times(db, id).size() == 3);
}

TEST_CASE("prune: deletes in batches of --batch-size until none is left") {
  CliDb db;
  // Nine old rows (seven creations, the kept run's T0 and T1): batches of 2, 2, 2, 2 and 1.
  for (int i = 0; i < 7; ++i) db.create_flow({"--now", kT0, "--state", "SCHEDULED"});
  const std::string kept = three_step_run(db);
  const Json out = prune(db, {"--batch-size", "2"});
  CHECK(out["deleted_rows"] == 9);
  CHECK(log_times(db, kept) == Strings{"2026-01-01T14:00:00.000000+00:00"});
  // A batch size that divides the rows exactly ends with an empty batch.
  CliDb exact;
  for (int i = 0; i < 4; ++i) exact.create_flow({"--now", kT0, "--state", "SCHEDULED"});
  CHECK(prune(exact, {"--batch-size", "2"})["deleted_rows"] == 4);
  CHECK(prune(exact, {"--dry-run"})["deleted_rows"] == 0);
}

TEST_CASE("prune: bad flags exit 64 and write nothing") {
  CliDb db;
  three_step_run(db);
  const std::string before = db.snapshot();
  const auto refused = [&](std::vector<std::string> args, const std::string& err) {
    args.insert(args.begin(), {"--now", kPruneAt, "prune"});
    const ProcessResult r = db.run(args);
    INFO(CliDb::join(args));
    CHECK(r.exit_code == 64);
    CHECK(r.out.empty());
    CHECK(r.err == err);
  };
  refused({}, "runctl: prune: --log-older-than is required (a duration such as 30d or 12h)\n");
  refused({"--log-older-than", "soon"},
          "runctl: --log-older-than: expected a duration such as 90s, 15m, 1h30m or 2d, got "
          "\"soon\"\n");
  refused({"--log-older-than", "1h", "--batch-size", "0"},
          "runctl: --batch-size: expected a positive integer, got 0\n");
  CHECK(db.snapshot() == before);
}

TEST_CASE(
    "prune: --vacuum shrinks the SQLite file" *
    RUNCTL_SQLITE_ONLY("a file's size on disk; PostgreSQL's VACUUM keeps the table's pages")) {
  CliDb db;
  REQUIRE(db.json({"--now", kT0, "flow-run", "create", "--count", "3000", "--state", "SCHEDULED"},
                  0)["ids"]
              .size() == 3000);
  const std::uintmax_t before = file_bytes(db);
  const Json out = prune(db, {"--vacuum"});
  CHECK(out["deleted_rows"] == 3000);
  CHECK(out["vacuumed"] == true);
  const std::uintmax_t after = file_bytes(db);
  CHECK(after < before);
  CHECK(out["freed_bytes"] > 0);
  CHECK(out["freed_bytes"].get<std::uintmax_t>() <= before - after + 65536);

  // Without --vacuum the pages go to the file's free list: freed, but the file keeps its size.
  CliDb plain;
  plain.json({"--now", kT0, "flow-run", "create", "--count", "3000", "--state", "SCHEDULED"}, 0);
  const Json kept = prune(plain, {});
  CHECK(kept["deleted_rows"] == 3000);
  CHECK(kept["freed_bytes"] > 0);
}

TEST_CASE("prune: --vacuum runs on every backend") {
  CliDb db;
  three_step_run(db);
  const Json out = prune(db, {"--vacuum"});
  CHECK(out["deleted_rows"] == 2);
  CHECK(out["vacuumed"] == true);
  CHECK(out["freed_bytes"] >= 0);
}

}  // namespace
}  // namespace runctl::clitest
