// Reliability property 2: crashes. A runctl process applying transitions is killed with SIGKILL
// at 20 seeded random moments, then again at moments aimed at its write, until some kills are
// known to have landed mid-write (the WAL changed, the transaction is absent). After each kill
// the next runctl command works with no manual repair, the database passes integrity_check, and
// every transition is wholly present (state row, run fields, orchestration_log row, artifact) or
// wholly absent.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "cli_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

using reliability::Sql;

constexpr int kKills = 20;
constexpr int kCreateCount = 100;
constexpr int kMidWriteKills = 3;  // kills that must land while the victim writes

struct Counts {
  std::int64_t runs = 0, states = 0, logs = 0, artifacts = 0;
};

// Checks that every run, state and log row agrees with the others, and returns the totals.
// A transition is written as: a state row, the run's state_* fields pointing at it, one
// orchestration_log row naming it, and (with data) one artifact. Any half-written transition
// breaks one of these.
Counts check_consistent(const std::string& path) {
  Sql sql(path, SQLITE_OPEN_READONLY);
  Counts c;
  for (const char* kind : {"flow", "task"}) {
    const std::string runs = std::string(kind) + "_run";
    const std::string states = runs + "_state";
    const std::string fk = runs + "_id";
    c.runs += sql.count("SELECT count(*) FROM " + runs);
    c.states += sql.count("SELECT count(*) FROM " + states);
    // Each run points at its newest state (or none, and then has no state at all).
    CHECK(sql.count("SELECT count(*) FROM " + runs +
                    " AS r WHERE r.state_id IS NOT (SELECT s.id FROM " + states + " AS s WHERE s." +
                    fk + " = r.id ORDER BY s.timestamp DESC LIMIT 1)") == 0);
    // ...and copies its type, name and timestamp.
    CHECK(sql.count("SELECT count(*) FROM " + runs + " AS r JOIN " + states +
                    " AS s ON s.id = r.state_id WHERE r.state_type IS NOT s.type OR r.state_name "
                    "IS NOT s.name OR r.state_timestamp IS NOT s.timestamp") == 0);
    // Every state row was logged, by its own run (a later null rejection that keeps the state
    // names it again, so "at least once").
    CHECK(sql.count("SELECT count(*) FROM " + states +
                    " AS s WHERE NOT EXISTS (SELECT 1 FROM orchestration_log AS l WHERE "
                    "l.validated_state_id = s.id AND l.run_id = s." +
                    fk + ")") == 0);
    // Every artifact a state names exists.
    CHECK(sql.count("SELECT count(*) FROM " + states +
                    " AS s WHERE s.result_artifact_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                    "artifact AS a WHERE a.id = s.result_artifact_id)") == 0);
  }
  c.logs = sql.count("SELECT count(*) FROM orchestration_log");
  c.artifacts = sql.count("SELECT count(*) FROM artifact");
  // Every log row that names a new state names one that exists.
  CHECK(sql.count("SELECT count(*) FROM orchestration_log AS l WHERE l.validated_state_id IS NOT "
                  "NULL AND NOT EXISTS (SELECT 1 FROM flow_run_state WHERE id = "
                  "l.validated_state_id) AND NOT EXISTS (SELECT 1 FROM task_run_state WHERE id = "
                  "l.validated_state_id)") == 0);
  // No artifact without its state.
  CHECK(sql.count("SELECT count(*) FROM artifact AS a WHERE NOT EXISTS (SELECT 1 FROM "
                  "flow_run_state WHERE result_artifact_id = a.id) AND NOT EXISTS (SELECT 1 FROM "
                  "task_run_state WHERE result_artifact_id = a.id)") == 0);
  return c;
}

// A result payload of ~64 KiB: its artifact spans many overflow pages, so a commit is many WAL
// frames and a kill can land between them.
std::string big_data() {
  Json data = Json::object();
  data["type"] = "reference";
  Json items = Json::array();
  for (int i = 0; i < 1500; ++i) items.push_back("item-" + std::to_string(i) + "-payload-text");
  data["items"] = items;
  return data.dump();
}

double run_duration(const CliDb& db, const std::vector<std::string>& args) {
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r = db.run(args);
  REQUIRE_MESSAGE(r.exit_code <= 3, r.err);
  return reliability::seconds_since(start);
}

TEST_CASE(
    "reliability: SIGKILL at random moments and mid-write leaves whole transitions and a usable "
    "db" *
    RUNCTL_SQLITE_ONLY(
        "reads the file with sqlite3; postgres_reliability_test.cpp kills apply on PostgreSQL")) {
  CliDb db;
  REQUIRE(db.run({"init"}).exit_code == 0);
  const std::string flow = db.create_flow({"--state", "PENDING"});
  const std::string task = db.create_task({"--state", "PENDING"});
  const std::string data = big_data();
  const std::vector<std::string> types = {"RUNNING", "PENDING", "COMPLETED", "SCHEDULED", "FAILED"};

  auto set_state_args = [&](int i) {
    return std::vector<std::string>{runctl_binary(),
                                    "--db",
                                    db.path(),
                                    "set-state",
                                    i % 4 == 0 ? task : flow,
                                    types[static_cast<size_t>(i) % types.size()],
                                    "--force",
                                    "--data",
                                    data};
  };
  auto create_args = [&] {
    return std::vector<std::string>{runctl_binary(),
                                    "--db",
                                    db.path(),
                                    "flow-run",
                                    "create",
                                    "--count",
                                    std::to_string(kCreateCount),
                                    "--state",
                                    "PENDING",
                                    "--data",
                                    data};
  };

  // How long each kind of victim runs when left alone: the kill moments are drawn from that span
  // (a little past it, so some kills land after the process is done).
  auto without_db = [](std::vector<std::string> argv) {
    return std::vector<std::string>(argv.begin() + 3, argv.end());  // CliDb adds runctl --db DB
  };
  const double set_state_s = run_duration(db, without_db(set_state_args(1)));
  const double create_s = run_duration(db, without_db(create_args()));
  MESSAGE("uninterrupted: set-state " << set_state_s * 1000 << " ms, create --count "
                                      << kCreateCount << " " << create_s * 1000 << " ms");

  // Each kill is classed by what it left: the transition wholly present (the kill came after the
  // commit), or wholly absent, either before the victim wrote anything or in the middle of its
  // write. A kill mid-write leaves the files changed (WAL frames without their commit frame) and
  // the transition absent; SQLite ignores those frames when the next process opens the file.
  enum class Landed { kPresent, kBeforeWrite, kMidWrite };
  const std::string wal = db.path() + "-wal";
  auto wal_state = [&] {
    struct stat st {};
    return ::stat(wal.c_str(), &st) == 0
               ? std::make_pair(static_cast<std::int64_t>(st.st_size),
                                st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec)
               : std::make_pair(std::int64_t{-1}, 0LL);
  };
  // `delay` is when to kill; none: kill as soon as the victim's first WAL write shows, which
  // lands inside the write of a large transaction.
  auto kill_once = [&](bool create, int i, std::optional<std::chrono::microseconds> delay) {
    const Counts before = check_consistent(db.path());
    const auto files_before = reliability::db_files(db.path());
    const auto stat_before = wal_state();
    {
      reliability::Child victim(create ? create_args() : set_state_args(i));
      if (delay) {
        // The kill moment itself is what is random here; nothing waits on this for correctness.
        std::this_thread::sleep_for(*delay);
      } else {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (wal_state() == stat_before && std::chrono::steady_clock::now() < deadline) {
        }
      }
      victim.kill_now();
      victim.wait();
    }
    // The main file, the WAL or a journal: what a write changes (the -shm index aside).
    const bool files_changed = !(reliability::db_files(db.path()) == files_before);

    // The next runctl command works, without anyone repairing the file first (it is the first
    // to open the database after the kill, so it also recovers the WAL).
    const ProcessResult show = db.run({"show", flow, "--json"});
    CHECK_MESSAGE(show.exit_code == 0, show.err);
    CHECK(reliability::integrity(db.path()) == "ok");

    const Counts after = check_consistent(db.path());
    bool written = false;
    if (create) {
      // All the runs of the one transaction, each with its state and log row, or none of them.
      const auto runs = after.runs - before.runs;
      CHECK((runs == 0 || runs == kCreateCount));
      CHECK(after.states - before.states == runs);
      CHECK(after.logs - before.logs == runs);
      CHECK(after.artifacts - before.artifacts == runs);
      written = runs != 0;
    } else {
      const auto states = after.states - before.states;
      CHECK((states == 0 || states == 1));
      CHECK(after.logs - before.logs == states);
      CHECK(after.artifacts - before.artifacts == states);
      CHECK(after.runs == before.runs);
      written = states != 0;
    }
    // A committed transition always changed the files.
    if (written) CHECK(files_changed);
    // And a write goes through too.
    const ProcessResult next = db.run({"set-state", flow, "RUNNING", "--force"});
    CHECK_MESSAGE(next.exit_code == 0, next.err);
    return written ? Landed::kPresent : files_changed ? Landed::kMidWrite : Landed::kBeforeWrite;
  };

  std::mt19937_64 rng(0x5eed);
  std::map<Landed, int> landed;
  for (int i = 0; i < kKills; ++i) {
    CAPTURE(i);
    const bool create = i % 2 == 1;
    const double span = (create ? create_s : set_state_s) * 1.3;
    const auto delay = std::chrono::microseconds(
        std::uniform_int_distribution<std::int64_t>(0, static_cast<std::int64_t>(span * 1e6))(rng));
    ++landed[kill_once(create, i, delay)];
  }
  // The random moments alone may all miss the write; these kills aim at it: the victim is killed
  // as soon as its first WAL frames appear, in the middle of writing 100 states with their
  // artifacts. Up to kKills of them, until kMidWriteKills landed mid-write.
  int aimed = 0, aimed_mid = 0;
  for (; aimed < kKills && aimed_mid < kMidWriteKills; ++aimed) {
    CAPTURE(aimed);
    const Landed l = kill_once(true, aimed, std::nullopt);
    ++landed[l];
    if (l == Landed::kMidWrite) ++aimed_mid;
  }
  MESSAGE((kKills + aimed) << " kills (" << aimed << " aimed at the write): "
                           << landed[Landed::kPresent] << " transitions wholly present, "
                           << landed[Landed::kMidWrite] << " killed mid-write and wholly absent, "
                           << landed[Landed::kBeforeWrite] << " killed before writing");
  // The test proves something only if kills did land during a write, and each left whole
  // transitions (checked above, kill by kill).
  CHECK(landed[Landed::kMidWrite] >= kMidWriteKills);
}

}  // namespace
}  // namespace runctl::clitest
