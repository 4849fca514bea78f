// Issue 14, items 5 and 13: a run's states follow each other in time. A --now earlier than the
// run's current state is refused (65, naming that state's timestamp, nothing written, --force
// included); a fixed --now reused for a task run says to give each call its own --now.
#include <doctest/doctest.h>

#include "hardening_support.hpp"

namespace runctl::clitest {
namespace {

const std::string kT = "2024-05-01T12:00:00Z";
const std::string kEarlier = "2024-05-01T11:59:59Z";

std::string too_early(const std::string& id, const std::string& type, const std::string& at) {
  return "runctl: run " + id + ": the clock (2024-05-01T11:59:59.000000+00:00) is earlier than " +
         "its current state (" + type + " at " + at + "); give a --now at or after " + at;
}

TEST_CASE("hardening 5: a --now before the current state is refused, forced or not") {
  CliDb db;
  for (const std::string kind : {"flow", "task"}) {
    CAPTURE(kind);
    const std::string id = db.create(kind, {"--now", kT, "--state", "PENDING"});
    const auto before = db.snapshot();
    const std::string line = too_early(id, "PENDING", "2024-05-01T12:00:00.000000+00:00");
    check_rejected(db, before, db.run({"--now", kEarlier, "set-state", id, "RUNNING"}), 65, line);
    check_rejected(db, before, db.run({"--now", kEarlier, "set-state", id, "RUNNING", "--force"}),
                   65, line);
    check_rejected(db, before,
                   db.run({"--now", kEarlier, "set-state", id, "COMPLETED", "--json", "--dry-run"}),
                   65, line);
    {
      EnvGuard env("RUNCTL_NOW", kEarlier);
      check_rejected(db, before, db.run({"set-state", id, "RUNNING"}), 65, line);
    }
    // The history stays in order and the run's times sane.
    CHECK(db.show(id)["state_type"] == "PENDING");
  }
}

TEST_CASE("hardening 5: apply refuses the line, with the same message") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kT, "--state", "PENDING"});
  const auto before = apply_baseline(db);
  const ProcessResult r =
      db.run({"--now", kEarlier, "apply"},
             "{\"run_id\": \"" + id + "\", \"state\": {\"type\": \"RUNNING\"}, \"force\": true}\n");
  CHECK(r.exit_code == 65);
  CHECK(r.err.empty());
  CHECK(r.out == "line 1: error (exit 65): " +
                     too_early(id, "PENDING", "2024-05-01T12:00:00.000000+00:00").substr(8) + "\n");
  CHECK(db.snapshot() == before);
}

TEST_CASE("hardening 5: the same --now again is Prefect's 1 µs bump for flow runs, not an error") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kT, "--state", "PENDING"});
  // Each state at the same clock moves 1 µs past those before it: the current state is then
  // later than the clock, which is the clock reused, not a clock gone back.
  for (const std::string type : {"RUNNING", "COMPLETED", "SCHEDULED", "PENDING"}) {
    CAPTURE(type);
    CHECK(db.json({"--now", kT, "set-state", id, type, "--force"})["_exit_code"] == 0);
  }
  CHECK(db.show(id)["state_timestamp"] == "2024-05-01T12:00:00.000004+00:00");
  // But a clock before the first of them is refused.
  const auto before = db.snapshot();
  check_rejected(db, before, db.run({"--now", kEarlier, "set-state", id, "RUNNING"}), 65,
                 too_early(id, "PENDING", "2024-05-01T12:00:00.000004+00:00"));
}

TEST_CASE("hardening 5: a gap in the bumped states is a clock gone back") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kT, "--state", "PENDING"});
  REQUIRE(db.json({"--now", "2024-05-01T12:00:05Z", "set-state", id, "RUNNING"})["_exit_code"] ==
          0);
  // 12:00:00 is taken, 12:00:00.000001 is free but before the current state at 12:00:05.
  const auto before = db.snapshot();
  const ProcessResult r = db.run({"--now", kT, "set-state", id, "COMPLETED"});
  check_rejected(db, before, r, 65,
                 "runctl: run " + id +
                     ": the clock (2024-05-01T12:00:00.000000+00:00) is earlier than its current "
                     "state (RUNNING at 2024-05-01T12:00:05.000000+00:00); give a --now at or "
                     "after 2024-05-01T12:00:05.000000+00:00");
}

TEST_CASE("hardening 13: a reused --now on a task run says to give each call its own") {
  CliDb db;
  const std::string id = db.create_task({"--now", kT, "--state", "PENDING"});
  const auto before = db.snapshot();
  check_rejected(db, before, db.run({"--now", kT, "set-state", id, "RUNNING"}), 65,
                 "runctl: run " + id +
                     " already has a state at 2024-05-01T12:00:00.000000+00:00; a run's state "
                     "timestamps must be unique: give each call its own, later --now (only a flow "
                     "run's new state is moved on by 1 µs, as in Prefect)");
  // A later --now goes through.
  CHECK(db.json({"--now", "2024-05-01T12:00:01Z", "set-state", id, "RUNNING"})["_exit_code"] == 0);
}

}  // namespace
}  // namespace runctl::clitest
