// Which backend the CLI tests run against: RUNCTL_TEST_BACKEND=postgres puts every CliDb on the
// PostgreSQL server RUNCTL_TEST_PG names; unset (or "sqlite"), a SQLite file. main.cpp checks
// the choice once, before any test runs (backend_gate), so a test can rely on it.
#pragma once
#include <doctest/doctest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "cli/pg_schema.hpp"

namespace runctl::clitest {

enum class Backend { kSqlite, kPostgres };

inline std::string requested_backend() {
  const char* v = std::getenv("RUNCTL_TEST_BACKEND");
  return v && *v ? v : "sqlite";
}

inline Backend test_backend() {
  return requested_backend() == "postgres" ? Backend::kPostgres : Backend::kSqlite;
}

// ctest's SKIP_RETURN_CODE for the cli-postgres test (the automake convention).
constexpr int kSkipExitCode = 77;

// Whether the tests can run on the requested backend: nullopt if so, else the exit code for
// main() with its reason in `why`. No server is a skip, unless CI is set: a CI run must never
// pass without its PostgreSQL half.
inline std::optional<int> backend_gate(std::string& why) {
  const std::string backend = requested_backend();
  if (backend == "sqlite") return std::nullopt;
  if (backend != "postgres") {
    why = "RUNCTL_TEST_BACKEND must be sqlite or postgres, not " + backend;
    return 2;
  }
  if (pgtest::test_server()) return std::nullopt;
  const char* ci = std::getenv("CI");
  if (ci && *ci) {
    why =
        "RUNCTL_TEST_BACKEND=postgres but RUNCTL_TEST_PG is not set, and CI is set: failing "
        "(run under scripts/with-postgres.sh)";
    return 1;
  }
  why =
      "skipped: RUNCTL_TEST_BACKEND=postgres but RUNCTL_TEST_PG is not set (run under "
      "scripts/with-postgres.sh)";
  return kSkipExitCode;
}

// A test case decorator: skipped on PostgreSQL, with the reason as its description, for what only
// a SQLite file has (its locks, its bytes on disk, its schema history, ...). doctest counts the
// case as skipped: TEST_CASE("name" * RUNCTL_SQLITE_ONLY("why")).
#define RUNCTL_SQLITE_ONLY(why)                                                             \
  doctest::skip(::runctl::clitest::test_backend() != ::runctl::clitest::Backend::kSqlite) * \
      doctest::description("SQLite only: " why)

}  // namespace runctl::clitest
