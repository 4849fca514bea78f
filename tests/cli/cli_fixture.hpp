// A scratch database and the built runctl, for tests that drive the CLI end to end.
#pragma once
#include <sqlite3.h>

#include <doctest/doctest.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/process.hpp"

namespace runctl::clitest {

using Json = nlohmann::ordered_json;

class CliDb {
 public:
  CliDb() : dir_(make_temp_dir()), db_(dir_ + "/runs.db") {}
  ~CliDb() { remove_tree(dir_); }
  CliDb(const CliDb&) = delete;
  CliDb& operator=(const CliDb&) = delete;

  const std::string& path() const { return db_; }
  const std::string& dir() const { return dir_; }

  // runctl --db DB ARGS...
  ProcessResult run(std::vector<std::string> args, const std::string& stdin_data = "") const {
    std::vector<std::string> argv{RUNCTL_BIN, "--db", db_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, stdin_data);
  }

  // Runs a command that must print one JSON object; fails the test with its stderr otherwise.
  Json json(std::vector<std::string> args, int expected_exit = -1) const {
    args.push_back("--json");
    ProcessResult r = run(args);
    INFO("runctl " << join(args) << "\nstderr: " << r.err << "\nstdout: " << r.out);
    if (expected_exit >= 0) CHECK(r.exit_code == expected_exit);
    Json out;
    try {
      out = Json::parse(r.out);
    } catch (const std::exception& e) {
      FAIL("stdout is not JSON: " << e.what());
    }
    out["_exit_code"] = r.exit_code;
    return out;
  }

  // Creates a run and returns its id. `extra` are further create flags, e.g. {"--state",
  // "PENDING"}.
  std::string create(const std::string& kind, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{kind + "-run", "create"};
    args.insert(args.end(), extra.begin(), extra.end());
    Json out = json(args, 0);
    return out.value("id", std::string());
  }
  std::string create_flow(std::vector<std::string> extra = {}) const {
    return create("flow", extra);
  }
  std::string create_task(std::vector<std::string> extra = {}) const {
    return create("task", extra);
  }

  // set-state ID TYPE EXTRA... --json; the result carries "_exit_code".
  Json set_state(const std::string& id, const std::string& type,
                 std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"set-state", id, type};
    args.insert(args.end(), extra.begin(), extra.end());
    return json(args);
  }

  Json show(const std::string& id) const { return json({"show", id}, 0); }

  // Writes a policy file into the scratch directory and returns its path.
  std::string policy(const Json& policy, const std::string& name = "policy.json") const {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << policy.dump(2);
    return path;
  }

  // Runs SQL directly on the database: setting up what no command sets (a preset run_count...).
  void sql(const std::string& statement) const {
    sqlite3* db = nullptr;
    if (sqlite3_open(db_.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open db");
    char* error = nullptr;
    const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    if (rc != SQLITE_OK) throw std::runtime_error("sql failed: " + message + ": " + statement);
  }

  // The first column of the first row of a query, as text ("" for NULL or no row).
  std::string sql_value(const std::string& query) const {
    sqlite3* db = nullptr;
    if (sqlite3_open(db_.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open db");
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  // The database file's bytes, to prove a failing command wrote nothing.
  std::string bytes() const {
    std::ifstream in(db_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static std::string join(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
  }

 private:
  std::string dir_;
  std::string db_;
};

}  // namespace runctl::clitest
