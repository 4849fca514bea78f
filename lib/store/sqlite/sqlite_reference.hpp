// The match_* methods of both SQLite repositories: one reference query (store/reference.hpp)
// run and read the same way for runs, deployments and leases.
#pragma once
#include <string>

#include "engine/run.hpp"
#include "store/records.hpp"
#include "store/reference.hpp"

namespace SQLite {
class Database;
}

namespace runctl {

// Runs `sql` on `db` (the file at `path`); every match is of run kind `kind`.
RefMatches sqlite_matches(SQLite::Database& db, const std::string& path, const RefSql& sql,
                          int limit, RunKind kind = RunKind::kFlow);

// SQLite's placeholders for reference_sql: ?1, ?2, ...
std::string sqlite_placeholder(int n);

}  // namespace runctl
