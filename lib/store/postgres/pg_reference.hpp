// The match_* methods of both PostgreSQL repositories: one reference query (store/reference.hpp)
// run and read the same way for runs, deployments and leases.
#pragma once
#include <string>

#include "engine/run.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/records.hpp"
#include "store/reference.hpp"

namespace runctl::pg {

// Runs `sql` on `conn`; every match is of run kind `kind`.
RefMatches matches(Connection& conn, const RefSql& sql, int limit, RunKind kind = RunKind::kFlow);

// PostgreSQL's placeholders for reference_sql: $1, $2, ...
std::string placeholder(int n);

}  // namespace runctl::pg
