#include "store/sqlite/sqlite_support.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl {
namespace {

namespace fs = std::filesystem;

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

// Whether a CANTOPEN is about permissions: the file (or, for a new file, its directory) cannot
// be written.
bool lacks_write_permission(const std::string& path) {
  if (exists(path)) return ::access(path.c_str(), W_OK) != 0;
  return ::access(parent_dir(path).c_str(), W_OK) != 0;
}

}  // namespace

bool is_busy(const SQLite::Exception& e) {
  const int code = e.getErrorCode() & 0xff;
  return code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

bool is_unique_violation(const SQLite::Exception& e) {
  return e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE ||
         e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY;
}

std::string busy_message(const std::string& path) {
  return "database is busy: " + path +
         " (locked by another process for longer than the busy timeout)";
}

std::string parent_dir(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

[[noreturn]] void throw_sqlite_error(const SQLite::Exception& e, const std::string& path) {
  const std::string detail = one_line(e.what());
  // SQLiteCpp reports -1 for its own errors (e.g. a bad column index); they are I/O-ish bugs.
  const int code = e.getErrorCode() < 0 ? -1 : (e.getErrorCode() & 0xff);
  switch (code) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw Error(ErrorKind::kBusy, busy_message(path));
    case SQLITE_READONLY:
    case SQLITE_PERM:
      throw Error(ErrorKind::kReadOnly, "database is read-only: " + path + ": " + detail);
    case SQLITE_CANTOPEN:
      if (lacks_write_permission(path))
        throw Error(ErrorKind::kReadOnly, "database is read-only: " + path + ": " + detail);
      if (!exists(path))
        throw Error(ErrorKind::kNotFound, "cannot open database " + path + ": " + detail);
      throw Error(ErrorKind::kIo, "cannot open database " + path + ": " + detail);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      throw Error(ErrorKind::kBadData, path + " is not a runctl database: " + detail);
    case SQLITE_IOERR:
    case SQLITE_FULL:
      throw Error(ErrorKind::kIo, "I/O error on database " + path + ": " + detail);
    default:
      throw Error(ErrorKind::kIo, "database error on " + path + ": " + detail);
  }
}

void Use::text(int i, std::string&& value) {
  if (kept_count_ == kept_.size()) {
    stmt_->bind(i, value);  // SQLite keeps its own copy
    return;
  }
  std::string& kept = kept_[kept_count_++];
  kept = std::move(value);
  stmt_->bindNoCopy(i, kept);
}

std::string RowReader::text(int i) {
  return s_.getColumn(i).getString();
}

std::optional<std::string> RowReader::opt_text(int i) {
  auto c = s_.getColumn(i);
  if (c.isNull()) return std::nullopt;
  return c.getString();
}

std::int64_t RowReader::int64(int i) {
  return s_.getColumn(i).getInt64();
}

double RowReader::real(int i) {
  return s_.getColumn(i).getDouble();
}

bool RowReader::is_null(int i) {
  return s_.getColumn(i).isNull();
}

std::optional<Timestamp> RowReader::opt_time(int i) {
  auto c = s_.getColumn(i);
  if (c.isNull()) return std::nullopt;
  const char* v = c.getText();
  auto t = parse_timestamp(std::string_view(v, static_cast<std::size_t>(c.getBytes())));
  if (!t) bad(i, "invalid timestamp '" + std::string(v) + "'");
  return t;
}

Timestamp RowReader::time(int i) {
  auto t = opt_time(i);
  if (!t) bad(i, "missing timestamp");
  return *t;
}

std::optional<StateType> RowReader::opt_type(int i) {
  auto c = s_.getColumn(i);
  if (c.isNull()) return std::nullopt;
  const std::string_view v(c.getText(), static_cast<std::size_t>(c.getBytes()));
  auto t = parse_state_type(v);
  if (!t) bad(i, "invalid state type '" + std::string(v) + "'");
  return t;
}

Json RowReader::json(int i) {
  auto c = s_.getColumn(i);
  if (c.isNull()) return Json();
  const char* v = c.getText();
  try {
    return Json::parse(v, v + c.getBytes());
  } catch (const Json::exception& e) {
    bad(i, std::string("invalid JSON: ") + e.what());
  }
}

std::string RowReader::json_text(int i) {
  std::string v = text(i);
  if (!Json::accept(v)) bad(i, "invalid JSON");
  return v;
}

std::vector<std::string> RowReader::strings(int i) {
  auto c = s_.getColumn(i);
  // Most runs have no tags: no parser for them.
  if (!c.isNull() && c.getBytes() == 2 && std::string_view(c.getText(), 2) == "[]") return {};
  const Json j = json(i);
  std::vector<std::string> out;
  if (!j.is_array()) bad(i, "expected a JSON array of strings");
  out.reserve(j.size());
  for (const auto& e : j) {
    if (!e.is_string()) bad(i, "expected a JSON array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::string RowReader::where() const {
  std::string out = path_ + ": ";
  out += what_;
  if (!key_.empty()) {
    out += ' ';
    out += key_;
  }
  return out;
}

void RowReader::bad(int i, const std::string& what) {
  throw Error(ErrorKind::kBadData,
              where() + ", column " + s_.getColumnName(i) + ": " + one_line(what));
}

}  // namespace runctl
