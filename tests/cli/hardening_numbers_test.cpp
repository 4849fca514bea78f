// Issue 14, item 6: non-finite and out-of-range numbers are usage errors (64, `--flag: expected
// ..., got ...`), never a NOT NULL constraint (74) or a null in the database.
#include <doctest/doctest.h>

#include "hardening_support.hpp"

namespace runctl::clitest {
namespace {

std::string usage(const std::string& flag, const std::string& what, const std::string& value) {
  return "runctl: usage: " + flag + ": " + what + ", got " + value + " (see --help)";
}

TEST_CASE("hardening 6: --slot-decay nan and inf are refused with 64") {
  CliDb db;
  REQUIRE(db.run({"global-limit", "create", "g", "--limit", "2"}).exit_code == 0);
  const auto before = db.snapshot();
  for (const std::string v : {"nan", "NaN", "inf", "-inf", "infinity"}) {
    CAPTURE(v);
    check_rejected(db, before,
                   db.run({"global-limit", "create", "h", "--limit", "1", "--slot-decay", v}), 64,
                   usage("--slot-decay", "expected a finite number >= 0", v));
    check_rejected(db, before, db.run({"global-limit", "update", "g", "--slot-decay", v}), 64,
                   usage("--slot-decay", "expected a finite number >= 0", v));
  }
}

TEST_CASE("hardening 6: --retry-jitter-factor nan and inf are refused, not stored as null") {
  CliDb db;
  REQUIRE(db.run({"init"}).exit_code == 0);
  const auto before = db.snapshot();
  for (const std::string v : {"nan", "inf"}) {
    CAPTURE(v);
    check_rejected(db, before, db.run({"task-run", "create", "--retry-jitter-factor", v}), 64,
                   usage("--retry-jitter-factor", "expected a finite number >= 0", v));
  }
  const std::string id = db.create_task({"--retry-jitter-factor", "0.5"});
  CHECK(db.show(id)["empirical_policy"]["retry_jitter_factor"] == 0.5);
}

TEST_CASE("hardening 6: --retry-delay nan and inf are refused") {
  CliDb db;
  REQUIRE(db.run({"init"}).exit_code == 0);
  const auto before = db.snapshot();
  for (const std::string v : {"nan", "inf", "1,nan"}) {
    CAPTURE(v);
    check_rejected(db, before, db.run({"task-run", "create", "--retry-delay", v}), 64,
                   "runctl: --retry-delay: expected seconds, got \"" + v + "\"");
  }
}

TEST_CASE("hardening 6: --seed must be an unsigned 64-bit integer") {
  CliDb db;
  const std::string id = db.create_flow({"--now", "2024-05-01T12:00:00Z", "--state", "PENDING"});
  const auto before = db.snapshot();
  for (const std::string v :
       {"-1", "18446744073709551616", "99999999999999999999999", "+5", " 5", "5x", "1e3", ""}) {
    CAPTURE(v);
    check_rejected(
        db, before,
        db.run({"--seed", v, "--now", "2024-05-01T12:00:01Z", "set-state", id, "RUNNING"}), 64,
        "runctl: --seed: expected an unsigned integer (0 to 18446744073709551615), got " + v);
  }
  CHECK(db.run({"--seed", "18446744073709551615", "--now", "2024-05-01T12:00:01Z", "set-state", id,
                "RUNNING"})
            .exit_code == 0);
}

TEST_CASE("hardening 6: other non-negative options refuse nan too") {
  CliDb db;
  REQUIRE(db.run({"init"}).exit_code == 0);
  const auto before = db.snapshot();
  check_rejected(db, before, db.run({"events", "--follow", "--timeout", "nan"}), 64,
                 usage("--timeout", "expected a finite number >= 0", "nan"));
  check_rejected(db, before, db.run({"events", "--follow", "--timeout", "inf"}), 64,
                 usage("--timeout", "expected a finite number >= 0", "inf"));
}

}  // namespace
}  // namespace runctl::clitest
