// What both stores (runs, and concurrency/events) need around SQLiteCpp: one mapping from SQLite
// failures to runctl::Error, cached statements borrowed for one execution, and a row reader whose
// every complaint names the database, the row and the column.
#pragma once
#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <array>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/state.hpp"
#include "store/state_data.hpp"  // to_text
#include "util/time.hpp"

namespace SQLite {
class Database;
}

namespace runctl {

bool is_busy(const SQLite::Exception& e);
// A UNIQUE or PRIMARY KEY constraint refused the write: the statement changed nothing, and the
// transaction it ran in stays open.
bool is_unique_violation(const SQLite::Exception& e);
std::string busy_message(const std::string& path);
std::string parent_dir(const std::string& path);

// Every SQLite failure leaves a store as one runctl::Error (the exit code follows its kind).
[[noreturn]] void throw_sqlite_error(const SQLite::Exception& e, const std::string& path);

// Runs f, turning any SQLite exception into a runctl::Error.
template <typename F>
auto guarded(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const SQLite::Exception& e) {
    throw_sqlite_error(e, path);
  }
}

using StatementSlot = std::unique_ptr<SQLite::Statement>;

// Borrows a cached statement for one execution, preparing it on first use. Resetting on release
// matters: a SELECT left mid-iteration would keep its read transaction (and lock) open.
//
// Text is bound without SQLite copying it (SQLITE_STATIC): a named string must outlive the
// execution, which it does, as the Use ends with the statement that reads it. A temporary string
// is kept here for as long as the Use lives. A transition binds some fifty texts; copying each
// into SQLite's own buffer and freeing it again was a tenth of SQLite's share of the time.
class Use {
 public:
  Use(SQLite::Database& db, StatementSlot& slot, const char* sql)
      : Use(db, slot, [sql] { return std::string(sql); }) {}

  // make_sql runs only when the statement is first prepared, so hot paths build no SQL text.
  template <std::invocable MakeSql>
  Use(SQLite::Database& db, StatementSlot& slot, MakeSql&& make_sql) {
    if (!slot) slot = std::make_unique<SQLite::Statement>(db, make_sql());
    stmt_ = slot.get();
    stmt_->clearBindings();
  }
  ~Use() { stmt_->tryReset(); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  SQLite::Statement* operator->() { return stmt_; }
  SQLite::Statement& operator*() { return *stmt_; }

  void text(int i, const std::string& value) { stmt_->bindNoCopy(i, value); }
  void text(int i, std::string&& value);
  void text(int i, const char*) = delete;  // a literal: literal() below
  // A view of a string literal (a type or kind name): static and NUL-terminated.
  void literal(int i, std::string_view name) { stmt_->bindNoCopy(i, name.data()); }
  void opt_text(int i, const std::optional<std::string>& value) {
    if (value)
      text(i, *value);
    else
      stmt_->bind(i);
  }
  void opt_text(int i, std::optional<std::string>&& value) {
    if (value)
      text(i, std::move(*value));
    else
      stmt_->bind(i);
  }
  void time(int i, Timestamp t) { text(i, format_timestamp(t)); }
  void opt_time(int i, const std::optional<Timestamp>& t) {
    if (t)
      time(i, *t);
    else
      stmt_->bind(i);
  }

 private:
  SQLite::Statement* stmt_;
  // The temporaries bound so far; a fixed array, as bound text must not move.
  std::array<std::string, 12> kept_;
  std::size_t kept_count_ = 0;
};

// Reads one row's columns; anything malformed is bad data. The row is named "<path>: <what>
// <key>" in the message, built only when there is one: reading a row is on every transition's
// path. path, what and key must outlive the reader.
class RowReader {
 public:
  RowReader(SQLite::Statement& s, const std::string& path, std::string_view what,
            std::string_view key)
      : s_(s), path_(path), what_(what), key_(key) {}

  SQLite::Column column(int i) { return s_.getColumn(i); }
  std::string text(int i);
  std::optional<std::string> opt_text(int i);
  std::int64_t int64(int i);
  double real(int i);
  bool is_null(int i);
  Timestamp time(int i);
  std::optional<Timestamp> opt_time(int i);
  std::optional<StateType> opt_type(int i);
  Json json(int i);                         // SQL NULL reads as JSON null
  std::string json_text(int i);             // checked to be JSON, kept as text
  std::vector<std::string> strings(int i);  // a JSON array of strings
  [[noreturn]] void bad(int i, const std::string& what);
  std::string where() const;  // "<path>: <what> <key>"

 private:
  SQLite::Statement& s_;
  const std::string& path_;
  std::string_view what_;
  std::string_view key_;
};

}  // namespace runctl
