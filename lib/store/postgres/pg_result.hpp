// A libpq result that frees itself, and a reader of one row's text columns whose every complaint
// names the database, the row and the column (as the SQLite backend's RowReader does).
#pragma once
#include "store/postgres/libpq_api.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/state.hpp"
#include "util/time.hpp"

namespace runctl::pg {

class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() {
    if (r_) libpq().PQclear(r_);
  }
  Result(Result&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
  Result& operator=(Result&& other) noexcept {
    if (this != &other) {
      if (r_) libpq().PQclear(r_);
      r_ = std::exchange(other.r_, nullptr);
    }
    return *this;
  }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  PGresult* get() const { return r_; }
  int rows() const { return r_ ? libpq().PQntuples(r_) : 0; }
  bool empty() const { return rows() == 0; }
  // Rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const;

  bool is_null(int row, int col) const { return libpq().PQgetisnull(r_, row, col) != 0; }
  std::string_view view(int row, int col) const {
    return {libpq().PQgetvalue(r_, row, col),
            static_cast<std::size_t>(libpq().PQgetlength(r_, row, col))};
  }
  std::string text(int row, int col) const { return std::string(view(row, col)); }
  const char* column_name(int col) const { return libpq().PQfname(r_, col); }

 private:
  PGresult* r_ = nullptr;
};

// Reads the columns of one row; anything malformed is Error(kBadData) naming
// "<db>: <what> <key>, column <name>". db, what and key must outlive the reader.
class RowReader {
 public:
  RowReader(const Result& r, int row, const std::string& db, std::string_view what,
            std::string_view key)
      : r_(r), row_(row), db_(db), what_(what), key_(key) {}

  bool is_null(int i) const { return r_.is_null(row_, i); }
  std::string_view view(int i) const { return r_.view(row_, i); }
  std::string text(int i) const { return r_.text(row_, i); }
  std::optional<std::string> opt_text(int i) const;
  std::int64_t int64(int i);
  double real(int i);
  bool boolean(int i);
  Timestamp time(int i);
  std::optional<Timestamp> opt_time(int i);
  std::optional<StateType> opt_type(int i);
  Json json(int i);                         // SQL NULL reads as JSON null
  std::string json_text(int i);             // checked to be JSON, kept as text
  std::vector<std::string> strings(int i);  // a JSON array of strings
  [[noreturn]] void bad(int i, const std::string& what);
  std::string where() const;  // "<db>: <what> <key>"

 private:
  const Result& r_;
  int row_;
  const std::string& db_;
  std::string_view what_;
  std::string_view key_;
};

}  // namespace runctl::pg
