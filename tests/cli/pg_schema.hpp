// A runctl database of a test's own on the PostgreSQL server RUNCTL_TEST_PG names
// (scripts/with-postgres.sh starts a throwaway one): a fresh schema, which runctl reaches through
// the URI's search_path and which is dropped with everything in it at the end. psql does the
// work, as an operator would, so no test code links libpq itself.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/process.hpp"

namespace runctl::clitest::pgtest {

// RUNCTL_TEST_PG, or nullopt when there is no server to test against.
inline std::optional<std::string> test_server() {
  const char* v = std::getenv("RUNCTL_TEST_PG");
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

// The newest server version's binaries (Debian's postgresql package), or "".
inline std::string pg_bin_dir() {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(e.path() / "bin" / "initdb", ec)) dirs.push_back((e.path() / "bin").string());
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(fs::path(a).parent_path().filename().string()) <
           std::stoi(fs::path(b).parent_path().filename().string());
  });
  return dirs.empty() ? "" : dirs.back();
}

inline std::string psql_path() {
  const std::string bin = pg_bin_dir();
  if (!bin.empty() && std::filesystem::exists(bin + "/psql")) return bin + "/psql";
  return "/usr/bin/psql";
}

// A libpq URI with one more query parameter.
inline std::string with_param(const std::string& url, const std::string& key_value) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + key_value;
}

// psql on a URI, unaligned and without headers: `sql` as one command, or (empty `sql`) the
// script on stdin, where psql's own commands such as \gexec work too.
inline ProcessResult psql(const std::string& url, const std::string& sql,
                          const std::string& script = "") {
  std::vector<std::string> argv{psql_path(),       "-X", "-q", "-A", "-t", "-v",
                                "ON_ERROR_STOP=1", "-d", url};
  if (sql.empty())
    argv.insert(argv.end(), {"-f", "-"});
  else
    argv.insert(argv.end(), {"-c", sql});
  return run_process(argv, script);
}

inline std::string random_suffix() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 10; ++i) out += hex[rd() % 16];
  return out;
}

class TestSchema {
 public:
  explicit TestSchema(const std::string& server)
      : server_(server), name_("runctl_test_" + random_suffix()) {
    const ProcessResult r = psql(server_, "CREATE SCHEMA " + name_);
    if (r.exit_code != 0)
      throw std::runtime_error("cannot create a test schema on " + server_ + ": " + r.err);
    url_ = with_param(server_, "options=-csearch_path%3D" + name_);
  }
  ~TestSchema() { psql(server_, "DROP SCHEMA IF EXISTS " + name_ + " CASCADE"); }
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;

  const std::string& server() const { return server_; }
  const std::string& name() const { return name_; }
  // The server's URI with the search_path on this schema: what --db takes.
  const std::string& url() const { return url_; }

  // Every table of the schema by name, then every row of each as PostgreSQL's text form of the
  // row, in byte order: equal snapshots mean equal data, whatever order the rows were stored in.
  // Sequences are left out: a rolled-back transaction still advances them, and that is no write.
  std::string snapshot() const {
    const std::string tables = "FROM information_schema.tables WHERE table_schema = '" + name_ +
                               "' AND table_type = 'BASE TABLE' ORDER BY table_name COLLATE \"C\"";
    const std::string script = "SELECT 'table ' || table_name " + tables +
                               ";\n"
                               "SELECT format('SELECT %L || '' '' || t::text FROM %I.%I AS t ORDER "
                               "BY t::text COLLATE \"C\"', "
                               "table_name, table_schema, table_name) " +
                               tables + " \\gexec\n";
    const ProcessResult r = psql(server_, "", script);
    if (r.exit_code != 0) throw std::runtime_error("snapshot of " + name_ + " failed: " + r.err);
    return r.out;
  }

 private:
  std::string server_, name_, url_;
};

}  // namespace runctl::clitest::pgtest
