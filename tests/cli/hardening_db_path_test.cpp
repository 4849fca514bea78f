// Issue 14, item 1: a --db that SQLite would open as a temporary database (an empty path, what
// `--db "$DB"` gives when DB is unset; ":memory:"; a "file:" URI) is refused with 64 before
// anything is created, so a run is never created into a database that vanishes.
#include <doctest/doctest.h>

#include "hardening_support.hpp"

namespace runctl::clitest {
namespace {

using reliability::dir_entries;

// Runs runctl in a fresh directory and checks the refusal, and that the directory stayed empty.
void refused_in_empty_dir(std::vector<std::string> args, const std::string& line) {
  CliDb scratch;  // only its directory: runctl runs there
  CwdGuard cwd(scratch.dir());
  const ProcessResult r = runctl(args);
  INFO("runctl " << CliDb::join(args));
  check_rejected(r, 64, line);
  CHECK(dir_entries(scratch.dir()).empty());
}

// The refusal is the store's (open_sqlite_database), one place for every command that opens the
// database; the message names --db whether the path came from --db or from $RUNCTL_DB.
const std::string kEmpty = "runctl: --db: empty path";

std::string not_a_file_line(const std::string& db) {
  return "runctl: --db: " + db +
         " is not a database file path (an in-memory or URI database is not supported); give a "
         "file path";
}

TEST_CASE("hardening 1: --db '' is refused with 64, for writes and reads alike") {
  refused_in_empty_dir({"--db", "", "flow-run", "create"}, kEmpty);
  refused_in_empty_dir({"--db", "", "flow-run", "create", "--state", "PENDING", "--json"}, kEmpty);
  refused_in_empty_dir({"--db", "", "init"}, kEmpty);
  refused_in_empty_dir({"--db", "", "show", "00000000-0000-4000-8000-000000000000"}, kEmpty);
  // After the command too, as every global option may be.
  refused_in_empty_dir({"flow-run", "create", "--db", ""}, kEmpty);
}

TEST_CASE("hardening 1: --db :memory: is refused with 64") {
  refused_in_empty_dir({"--db", ":memory:", "flow-run", "create"}, not_a_file_line(":memory:"));
  refused_in_empty_dir({"--db", ":memory:", "init", "--json"}, not_a_file_line(":memory:"));
}

TEST_CASE("hardening 1: --db file: URIs are refused with 64") {
  for (const std::string uri : {"file:runs.db", "file::memory:",
                                "file:runs.db?mode=memory&cache=shared", "file:///tmp/runs.db"}) {
    CAPTURE(uri);
    refused_in_empty_dir({"--db", uri, "flow-run", "create"}, not_a_file_line(uri));
  }
}

TEST_CASE("hardening 1: $RUNCTL_DB is checked the same way") {
  {
    EnvGuard env("RUNCTL_DB", ":memory:");
    refused_in_empty_dir({"flow-run", "create"}, not_a_file_line(":memory:"));
  }
  {
    EnvGuard env("RUNCTL_DB", "file:runs.db");
    refused_in_empty_dir({"init"}, not_a_file_line("file:runs.db"));
  }
  {
    // An empty RUNCTL_DB counts as unset (./runctl.db), as before.
    EnvGuard env("RUNCTL_DB", "");
    CliDb scratch;
    CwdGuard cwd(scratch.dir());
    const ProcessResult r = runctl({"init"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "runctl.db: schema version 7\n");
  }
}

TEST_CASE(
    "hardening 1: a plain path, ./file:NAME and PostgreSQL URIs are not refused by the check") {
  CliDb db;
  CwdGuard cwd(db.dir());
  // A file whose name starts with "file:" is reachable as ./file:NAME, and persists.
  const ProcessResult created = runctl({"--db", "./file:runs.db", "flow-run", "create"});
  REQUIRE(created.exit_code == 0);
  const std::string id = created.out.substr(0, created.out.size() - 1);
  CHECK(runctl({"--db", "./file:runs.db", "show", id}).exit_code == 0);
  // postgresql:// and postgres:// go to the PostgreSQL backend: whatever this build answers (no
  // server there, or no PostgreSQL support), it is not the file-path refusal.
  for (const std::string uri : {"postgresql://localhost/runs", "postgres://localhost/runs"}) {
    CAPTURE(uri);
    const ProcessResult r = runctl({"--db", uri, "init"});
    CHECK(r.err.find("is not a database file path") == std::string::npos);
    CHECK(r.err.find("empty path") == std::string::npos);
  }
}

}  // namespace
}  // namespace runctl::clitest
