#include "store/sqlite/sqlite_reference.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/sqlite/sqlite_support.hpp"

namespace runctl {

std::string sqlite_placeholder(int n) {
  return "?" + std::to_string(n);
}

RefMatches sqlite_matches(SQLite::Database& db, const std::string& path, const RefSql& sql,
                          int limit, RunKind kind) {
  return guarded(path, [&] {
    // Not cached: a reference is resolved once per command.
    RefMatches out;
    SQLite::Statement select(db, sql.select);
    for (std::size_t i = 0; i < sql.params.size(); ++i)
      select.bind(static_cast<int>(i + 1), sql.params[i]);
    while (select.executeStep())
      out.first.push_back({select.getColumn(0).getString(), select.getColumn(1).getString(), kind});
    out.total = static_cast<std::int64_t>(out.first.size());
    // Counted only when the list was cut short: the count is what an ambiguous reference reports.
    if (out.total < limit) return out;
    SQLite::Statement count(db, sql.count);
    for (std::size_t i = 0; i < sql.params.size(); ++i)
      count.bind(static_cast<int>(i + 1), sql.params[i]);
    count.executeStep();
    out.total = count.getColumn(0).getInt64();
    return out;
  });
}

}  // namespace runctl
