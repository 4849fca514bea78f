#include "store/postgres/pg_reference.hpp"

namespace runctl::pg {

std::string placeholder(int n) {
  return "$" + std::to_string(n);
}

RefMatches matches(Connection& conn, const RefSql& sql, int limit, RunKind kind) {
  // The id columns are COLLATE "C" (005_initial.sql), so the range [p, p~) compares bytes and
  // the primary key's index serves it, whatever the database's collation.
  Params params;
  for (const std::string& p : sql.params) params.text(p);
  const Result r = conn.exec(sql.select, params);
  RefMatches out;
  for (int i = 0; i < r.rows(); ++i) out.first.push_back({r.text(i, 0), r.text(i, 1), kind});
  out.total = static_cast<std::int64_t>(out.first.size());
  // Counted only when the list was cut short: the count is what an ambiguous reference reports.
  if (out.total < limit) return out;
  const Result c = conn.exec(sql.count, params);
  out.total = RowReader(c, 0, conn.name(), "count", "").int64(0);
  return out;
}

}  // namespace runctl::pg
