// Faults injected behind runctl's back, on either backend: a store that silently drops a write,
// a row no runctl command or repository method can write. This is the only SQL the
// backend-neutral CLI tests run: what it sets up is, by design, something runctl never does.
#pragma once
#include <doctest/doctest.h>

#include <string>

#include "cli/cli_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {

// Runs a statement on the test's database directly: `sqlite` on the SQLite file, or `postgres`
// (in the test's schema) on the server.
inline void tamper(const CliDb& db, const std::string& sqlite, const std::string& postgres) {
  if (!db.is_postgres()) {
    reliability::Sql(db.path()).exec(sqlite);
    return;
  }
  const ProcessResult r = pgtest::psql(db.path(), postgres);
  INFO("psql: " << postgres << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
}

// From now on every lowering of a V2 limit's active_slots is skipped without an error, as if the
// row had gone: a decrement finds no row to update and reports the release failed.
inline void drop_v2_decrements(const CliDb& db) {
  tamper(db,
         "CREATE TRIGGER flaky_decrement BEFORE UPDATE OF active_slots ON concurrency_limit_v2 "
         "WHEN NEW.active_slots < OLD.active_slots BEGIN SELECT RAISE(IGNORE); END",
         "CREATE FUNCTION flaky_decrement() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
         "IF NEW.active_slots < OLD.active_slots THEN RETURN NULL; END IF; RETURN NEW; END $$; "
         "CREATE TRIGGER flaky_decrement BEFORE UPDATE OF active_slots ON concurrency_limit_v2 "
         "FOR EACH ROW EXECUTE FUNCTION flaky_decrement()");
}

// A deployment whose concurrency_options is not JSON: reading it fails.
inline void corrupt_concurrency_options(const CliDb& db, const std::string& deployment_id) {
  const std::string sql =
      "UPDATE deployment SET concurrency_options = 'not json' WHERE id = '" + deployment_id + "'";
  tamper(db, sql, sql);
}

}  // namespace runctl::clitest
