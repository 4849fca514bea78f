// Reliability property 2: crashes. A runctl process applying transitions is killed with SIGKILL
// at 20 seeded random moments. After each kill the next runctl command works with no manual
// repair, the database passes integrity_check, and every transition is wholly present (state
// row, run fields, orchestration_log row, artifact) or wholly absent.
#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <thread>

#include "cli_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

using reliability::Sql;

constexpr int kKills = 20;
constexpr int kCreateCount = 100;

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

TEST_CASE("reliability: SIGKILL at 20 random moments leaves whole transitions and a usable db") {
  CliDb db;
  REQUIRE(db.run({"init"}).exit_code == 0);
  const std::string flow = db.create_flow({"--state", "PENDING"});
  const std::string task = db.create_task({"--state", "PENDING"});
  const std::string data = big_data();
  const std::vector<std::string> types = {"RUNNING", "PENDING", "COMPLETED", "SCHEDULED", "FAILED"};

  auto set_state_args = [&](int i) {
    return std::vector<std::string>{RUNCTL_BIN,
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
    return std::vector<std::string>{RUNCTL_BIN,
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

  std::mt19937_64 rng(0x5eed);
  int present = 0, absent = 0;
  for (int i = 0; i < kKills; ++i) {
    CAPTURE(i);
    const bool create = i % 2 == 1;
    const Counts before = check_consistent(db.path());
    const double span = (create ? create_s : set_state_s) * 1.3;
    const auto delay = std::chrono::microseconds(
        std::uniform_int_distribution<std::int64_t>(0, static_cast<std::int64_t>(span * 1e6))(rng));
    {
      reliability::Child victim(create ? create_args() : set_state_args(i));
      // The kill moment itself is what is random here; nothing waits on this for correctness.
      std::this_thread::sleep_for(delay);
      victim.kill_now();
      victim.wait();
    }

    // The next runctl command works, without anyone repairing the file first (it is the first
    // to open the database after the kill, so it also recovers the WAL).
    const ProcessResult show = db.run({"show", flow, "--json"});
    CHECK_MESSAGE(show.exit_code == 0, show.err);
    CHECK(reliability::integrity(db.path()) == "ok");

    const Counts after = check_consistent(db.path());
    if (create) {
      // All the runs of the one transaction, each with its state and log row, or none of them.
      const auto runs = after.runs - before.runs;
      CHECK((runs == 0 || runs == kCreateCount));
      CHECK(after.states - before.states == runs);
      CHECK(after.logs - before.logs == runs);
      CHECK(after.artifacts - before.artifacts == runs);
      (runs ? present : absent)++;
    } else {
      const auto states = after.states - before.states;
      CHECK((states == 0 || states == 1));
      CHECK(after.logs - before.logs == states);
      CHECK(after.artifacts - before.artifacts == states);
      CHECK(after.runs == before.runs);
      (states ? present : absent)++;
    }
    // And a write goes through too.
    const ProcessResult next = db.run({"set-state", flow, "RUNNING", "--force"});
    CHECK_MESSAGE(next.exit_code == 0, next.err);
  }
  MESSAGE(kKills << " kills: " << present << " transitions wholly present, " << absent
                 << " wholly absent");
  CHECK(present + absent == kKills);
}

}  // namespace
}  // namespace runctl::clitest
