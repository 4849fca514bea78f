// Reliability property 3: another process holds the write lock for longer than --busy-timeout.
// runctl exits 75 with a one-line "database is busy" message and writes nothing. The lock is
// held by a forked process that reports it through a pipe, so no test waits on a guess.
// SQLite only: the lock is a SQLite file's. postgres_reliability_test.cpp holds a PostgreSQL row
// lock past --busy-timeout.
#include <doctest/doctest.h>

#include <chrono>

#include "cli_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

using reliability::db_files;
using reliability::LockHolder;

bool one_line(const std::string& err) {
  return !err.empty() && err.back() == '\n' && err.find('\n') == err.size() - 1 &&
         err.rfind("runctl: ", 0) == 0;
}

void check_busy(const ProcessResult& r, double elapsed, double timeout_s) {
  INFO("stderr: " << r.err << "stdout: " << r.out);
  CHECK(r.exit_code == 75);
  CHECK(one_line(r.err));
  CHECK(r.err.find("database is busy") != std::string::npos);
  CHECK(r.out.empty());
  // It waited for the timeout, and not much longer (bounded: the test cannot hang here).
  CHECK(elapsed >= timeout_s * 0.9);
  CHECK(elapsed < timeout_s + 10);
}

struct Fixture {
  CliDb db;
  std::string flow, task;
  Fixture() {
    REQUIRE(db.run({"init"}).exit_code == 0);
    flow = db.create_flow({"--state", "PENDING"});
    task = db.create_task({"--state", "PENDING"});
    // Everything in the main file, no WAL: the baseline for "nothing written".
    reliability::checkpoint(db.path());
  }
  // Runs runctl and checks it gave up as busy after `timeout_s`.
  void busy(std::vector<std::string> args, double timeout_s) const {
    const auto start = std::chrono::steady_clock::now();
    const ProcessResult r = db.run(std::move(args));
    check_busy(r, reliability::seconds_since(start), timeout_s);
  }
};

// The orchestration log's rows, read with sqlite3 itself.
std::int64_t log_rows(const CliDb& db) {
  return reliability::Sql(db.path(), SQLITE_OPEN_READONLY)
      .count("SELECT count(*) FROM orchestration_log");
}

TEST_CASE("reliability: a writer held past --busy-timeout: exit 75, nothing written" *
          RUNCTL_SQLITE_ONLY("another process holds the SQLite file's write lock")) {
  Fixture f;
  const auto before = db_files(f.db.path());
  const auto logged = log_rows(f.db);
  {
    LockHolder lock(f.db.path());
    SUBCASE("set-state") {
      f.busy({"--busy-timeout", "300", "set-state", f.flow, "RUNNING", "--json"}, 0.3);
    }
    SUBCASE("set-state on a task run, forced") {
      f.busy({"--busy-timeout", "300", "set-state", f.task, "RUNNING", "--force"}, 0.3);
    }
    SUBCASE("flow-run create with a state") {
      f.busy({"--busy-timeout", "300", "flow-run", "create", "--count", "3", "--state", "PENDING"},
             0.3);
    }
    SUBCASE("--busy-timeout 0 gives up at once") {
      f.busy({"--busy-timeout", "0", "set-state", f.flow, "RUNNING"}, 0);
    }
    SUBCASE("a reader is not blocked by a writer") {
      // WAL mode: a reader never waits for a writer. The lock is held throughout, so a reader
      // that waited for it would give up with 75; no timing needed.
      const ProcessResult r = f.db.run({"--busy-timeout", "300", "show", f.flow, "--json"});
      CHECK_MESSAGE(r.exit_code == 0, r.err);
    }
  }
  // The holder rolled back and exited. Not a byte of the database or its WAL changed.
  CHECK(db_files(f.db.path()) == before);
  CHECK(log_rows(f.db) == logged);
  // And the next command goes through.
  CHECK(f.db.run({"set-state", f.flow, "RUNNING"}).exit_code == 0);
}

TEST_CASE("reliability: an exclusive lock blocks readers too: exit 75, nothing written" *
          RUNCTL_SQLITE_ONLY("SQLite's locking_mode=EXCLUSIVE on the file")) {
  Fixture f;
  const auto before = db_files(f.db.path());
  {
    LockHolder lock(f.db.path(), /*exclusive=*/true);
    SUBCASE("show") {
      f.busy({"--busy-timeout", "300", "show", f.flow}, 0.3);
    }
    SUBCASE("history") {
      f.busy({"--busy-timeout", "300", "history", f.flow, "--json"}, 0.3);
    }
    SUBCASE("set-state") {
      f.busy({"--busy-timeout", "300", "set-state", f.flow, "RUNNING"}, 0.3);
    }
    SUBCASE("init") {
      f.busy({"--busy-timeout", "300", "init"}, 0.3);
    }
  }
  CHECK(db_files(f.db.path()) == before);
  CHECK(f.db.run({"set-state", f.flow, "RUNNING"}).exit_code == 0);
}

}  // namespace
}  // namespace runctl::clitest
