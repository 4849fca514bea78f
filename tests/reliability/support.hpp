// Helpers for the reliability tests (tests/cli/reliability_*.cpp): reading the database behind
// runctl's back, proving that a command wrote nothing, starting and killing processes, and
// holding the SQLite write lock from another process with a pipe handshake instead of sleeps.
#pragma once
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cli/process.hpp"

namespace runctl::reliability {

// ---------------------------------------------------------------------------------------------
// Files.

// The bytes of a file, or nullopt when it does not exist.
inline std::optional<std::string> file_bytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Everything that holds a database's content: the main file, its WAL and a rollback journal.
// The -shm file is not part of it: it is the WAL's index, which every reader updates (read marks)
// and SQLite rebuilds from the WAL, so it is not compared. What "nothing written" means in WAL
// mode: neither the main file nor the WAL changed by a byte, and no journal appeared.
struct DbFiles {
  std::optional<std::string> db, wal, journal;
  bool operator==(const DbFiles&) const = default;
};

inline DbFiles db_files(const std::string& db) {
  return DbFiles{file_bytes(db), file_bytes(db + "-wal"), file_bytes(db + "-journal")};
}

// The names in a directory, to prove a failing command left no stray file behind.
inline std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// SQLite, directly.

using Row = std::vector<std::optional<std::string>>;

class Sql {
 public:
  explicit Sql(const std::string& path, int flags = SQLITE_OPEN_READWRITE) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open " + path + ": " + why);
    }
    sqlite3_busy_timeout(db_, 10000);
  }
  ~Sql() { sqlite3_close_v2(db_); }
  Sql(const Sql&) = delete;
  Sql& operator=(const Sql&) = delete;

  // Runs one statement with text parameters; returns every row, NULL as nullopt.
  std::vector<Row> query(const std::string& sql, const std::vector<std::string>& params = {}) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      throw std::runtime_error("prepare failed: " + std::string(sqlite3_errmsg(db_)) + ": " + sql);
    for (size_t i = 0; i < params.size(); ++i)
      sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].data(),
                        static_cast<int>(params[i].size()), SQLITE_TRANSIENT);
    std::vector<Row> rows;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      Row row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
        } else {
          // Length-exact, so text with embedded NUL bytes comes back whole.
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          row.emplace_back(std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
        }
      }
      rows.push_back(std::move(row));
    }
    const std::string error = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (!error.empty()) throw std::runtime_error("query failed: " + error + ": " + sql);
    return rows;
  }

  // The first column of the first row ("" for NULL or no row).
  std::string value(const std::string& sql, const std::vector<std::string>& params = {}) {
    auto rows = query(sql, params);
    if (rows.empty() || rows[0].empty() || !rows[0][0]) return "";
    return *rows[0][0];
  }
  std::int64_t count(const std::string& sql, const std::vector<std::string>& params = {}) {
    return std::stoll(value(sql, params));
  }

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error("exec failed: " + message + ": " + sql);
    }
  }

  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// Folds the WAL into the main file, so that the main file alone is the database (the last
// connection to close deletes the WAL).
inline void checkpoint(const std::string& db) {
  Sql sql(db);
  sql.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

// "ok", or what PRAGMA integrity_check found, joined.
inline std::string integrity(const std::string& db) {
  Sql sql(db, SQLITE_OPEN_READONLY);
  std::string out;
  for (const Row& r : sql.query("PRAGMA integrity_check"))
    out += (out.empty() ? "" : "; ") + r[0].value_or("NULL");
  for (const Row& r : sql.query("PRAGMA foreign_key_check"))
    out += "; foreign key violation in " + r[0].value_or("?");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Processes.

// A child process started without waiting for it: for the runctl we kill at a random moment.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Output goes nowhere: a killed child's output is not what these tests look at.
      const int null_fd = ::open("/dev/null", O_RDWR);
      ::dup2(null_fd, 0);
      ::dup2(null_fd, 1);
      ::dup2(null_fd, 2);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Exit status as a shell reports it: the code, or 128 + signal.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0)
      if (errno != EINTR) throw std::runtime_error("waitpid failed");
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void kill_now() { ::kill(pid_, SIGKILL); }

 private:
  pid_t pid_ = -1;
};

// Another process that holds the database's write lock until release() (or destruction). The
// handshake is a pipe: the constructor returns only once the child reports the lock taken, so
// no test guesses with a sleep. `exclusive` also locks readers out (locking_mode=EXCLUSIVE).
class LockHolder {
 public:
  LockHolder(const std::string& db, bool exclusive = false) {
    int ready[2], go[2];
    if (::pipe(ready) != 0 || ::pipe(go) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(go[1]);
      char ok = '1';
      sqlite3* h = nullptr;
      if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) ok = 'o';
      if (ok == '1' && exclusive &&
          sqlite3_exec(h, "PRAGMA locking_mode=EXCLUSIVE", nullptr, nullptr, nullptr) != SQLITE_OK)
        ok = 'x';
      // A write inside BEGIN IMMEDIATE: holds the write lock (and, in exclusive mode, the file
      // lock every reader needs) without ever committing.
      if (ok == '1' && sqlite3_exec(h, "BEGIN IMMEDIATE; UPDATE flow_run SET name = name;", nullptr,
                                    nullptr, nullptr) != SQLITE_OK)
        ok = 'b';
      [[maybe_unused]] auto w = ::write(ready[1], &ok, 1);
      char c;
      [[maybe_unused]] auto r = ::read(go[0], &c, 1);  // returns when the parent releases
      sqlite3_exec(h, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(h);
      ::_exit(ok == '1' ? 0 : 1);
    }
    ::close(ready[1]);
    ::close(go[0]);
    release_fd_ = go[1];
    char ok = 0;
    const auto n = ::read(ready[0], &ok, 1);
    ::close(ready[0]);
    if (n != 1 || ok != '1') {
      release();
      throw std::runtime_error(std::string("lock holder failed to take the lock: ") + ok);
    }
  }
  ~LockHolder() { release(); }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;

  // Rolls back and waits for the holder to exit.
  void release() {
    if (pid_ <= 0) return;
    ::close(release_fd_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
};

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace runctl::reliability
