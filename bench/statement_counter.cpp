// Counts the SQL statements a runctl process runs, for `make bench`'s "statements per transition"
// rows. runctl links SQLite statically, so no LD_PRELOAD shim can see its calls: the count has
// to come from inside, through sqlite3_trace_v2 on each connection runctl opens.
//
// With RUNCTL_COUNT_STATEMENTS=1 in the environment, the process prints at exit, on stderr:
//   runctl-bench: statements=N
// (=2 adds one line per distinct statement text, most run first). Without it,
// runctl_bench_count_statements() returns at once and installs nothing, so timed runs of the same
// binary pay one getenv per connection.
//
// Counted: every statement run, once per execution (each sqlite3_step from a reset statement,
// BEGIN/COMMIT/SAVEPOINT/RELEASE and pragmas included), on every connection hooked. Not counted:
// trigger sub-programs, which SQLite reports to the same hook as "-- TRIGGER name" lines.
//
// Hooking it (the lead's part; bench/CMakeLists.txt already compiles this file into runctl_lib and
// defines RUNCTL_BENCH=1 for runctl_lib and what links it, in the bench build only): one call
// right after the connection opens, before its first statement, so the schema probe and the
// pragmas are counted too. In lib/store/sqlite/sqlite_database.cpp, at namespace scope (global,
// not in `runctl`):
//
//   #ifdef RUNCTL_BENCH
//   void runctl_bench_count_statements(sqlite3* db);  // bench/statement_counter.cpp
//   #endif
//
// and in SqliteDatabase::SqliteDatabase, between open_connection(mode, options) and
// check_is_runctl_database(mode):
//
//   #ifdef RUNCTL_BENCH
//       runctl_bench_count_statements(db_->getHandle());
//   #endif
//
// Any other place that opens a sqlite3 connection gets the same one-line call.
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Counts {
  std::mutex mutex;  // runctl is single-threaded today; the hook must not assume it stays so
  unsigned long long total = 0;
  bool by_text = false;
  std::map<std::string, unsigned long long> texts;
};

// Never destroyed: the atexit handler may run after static destructors of other units.
Counts& counts() {
  static Counts* c = new Counts;
  return *c;
}

int on_trace(unsigned type, void*, void* stmt, void* text) {
  if (type != SQLITE_TRACE_STMT) return 0;
  const char* sql = static_cast<const char*>(text);
  if (sql && std::strncmp(sql, "--", 2) == 0) return 0;  // a trigger's sub-program
  Counts& c = counts();
  std::lock_guard<std::mutex> lock(c.mutex);
  ++c.total;
  if (c.by_text) {
    const char* unexpanded = sqlite3_sql(static_cast<sqlite3_stmt*>(stmt));
    ++c.texts[unexpanded ? unexpanded : "?"];
  }
  return 0;
}

void report() {
  Counts& c = counts();
  std::lock_guard<std::mutex> lock(c.mutex);
  std::fprintf(stderr, "runctl-bench: statements=%llu\n", c.total);
  if (!c.by_text) return;
  std::vector<std::pair<unsigned long long, std::string>> rows;
  for (const auto& [text, n] : c.texts) rows.emplace_back(n, text);
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [n, text] : rows) std::fprintf(stderr, "runctl-bench: %10llu  %s\n", n, text.c_str());
}

}  // namespace

void runctl_bench_count_statements(sqlite3* db) {
  const char* mode = std::getenv("RUNCTL_COUNT_STATEMENTS");
  if (!db || !mode || !*mode || std::strcmp(mode, "0") == 0) return;
  static const bool registered = [mode] {
    counts().by_text = std::strcmp(mode, "2") == 0;
    std::atexit(report);
    return true;
  }();
  (void)registered;
  sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_trace, nullptr);
}
