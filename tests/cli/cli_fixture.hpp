// A scratch database and the built runctl, for tests that drive the CLI end to end. The same
// tests run on either backend (test_backend.hpp): a SQLite file in a temporary directory, or a
// fresh schema on the PostgreSQL server RUNCTL_TEST_PG names. What no command sets up is set
// through runctl's own repository API, never through SQL, so no test knows a backend's tables.
#pragma once
#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/pg_schema.hpp"
#include "cli/process.hpp"
#include "cli/test_backend.hpp"
#include "store/database.hpp"
#include "util/time.hpp"

namespace runctl::clitest {

using Json = nlohmann::ordered_json;

// A timestamp as --now takes it ("2026-01-01T12:00:00Z"), for the repository API.
inline Timestamp timestamp(std::string_view text) {
  const std::optional<Timestamp> t = parse_timestamp(text);
  REQUIRE_MESSAGE(t.has_value(), "not a timestamp: " << text);
  return *t;
}

// A set-state result's details.reason, or "<null>". One definition for every test file: the
// policy and concurrency fixtures each had their own, with other return types, and the linker
// kept one of the two for both (an ODR violation that crashed a Debug build).
inline std::string reason(const Json& out) {
  const Json& r = out["details"]["reason"];
  return r.is_string() ? r.get<std::string>() : "<null>";
}

class CliDb {
 public:
  CliDb() : dir_(make_temp_dir()) {
    if (test_backend() == Backend::kSqlite) {
      db_ = dir_ + "/runs.db";
      return;
    }
    try {
      schema_ = std::make_unique<pgtest::TestSchema>(*pgtest::test_server());
    } catch (...) {
      remove_tree(dir_);  // the destructor does not run for a constructor that throws
      throw;
    }
    db_ = schema_->url();
  }
  ~CliDb() {
    schema_.reset();
    remove_tree(dir_);
  }
  CliDb(const CliDb&) = delete;
  CliDb& operator=(const CliDb&) = delete;

  // What --db takes: the SQLite file's path, or the PostgreSQL URL with the test's search_path.
  const std::string& path() const { return db_; }
  const std::string& dir() const { return dir_; }
  bool is_postgres() const { return schema_ != nullptr; }

  // runctl --db DB ARGS...
  ProcessResult run(std::vector<std::string> args, const std::string& stdin_data = "") const {
    std::vector<std::string> argv{runctl_binary(), "--db", db_};
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

  // The database through runctl's repository API, for what no command reads or sets (a preset
  // run_count, a flow row, the slots of a limit). A connection of its own each time: none is
  // open while runctl runs, or when a test forks.
  std::unique_ptr<Database> open(OpenMode mode = OpenMode::kWriteExisting) const {
    return open_database(db_, mode);
  }
  Run load_run(const std::string& id) const {
    const std::optional<Run> run = open(OpenMode::kRead)->runs().find_run(id);
    REQUIRE_MESSAGE(run.has_value(), "no run " << id);
    return *run;
  }
  // Changes a stored run in one write transaction, as a transition would: `change` edits the
  // loaded run, and every column is written back, the run's identity too.
  void update_run(const std::string& id, const std::function<void(Run&)>& change) const {
    const std::unique_ptr<Database> db = open();
    WriteTransaction tx(*db);
    std::optional<Run> run = db->runs().find_run(id, RowLock::kForUpdate);
    REQUIRE_MESSAGE(run.has_value(), "no run " << id);
    change(*run);
    db->runs().update_run(*run, RunColumns::kAll);
    tx.commit();
  }

  // Everything the database holds, to prove that a failing command wrote nothing: the SQLite
  // file, its WAL and journal byte for byte; on PostgreSQL every table's rows (a server keeps no
  // file of one database, and its pages move under VACUUM without any write of ours).
  std::string snapshot() const {
    if (schema_) return schema_->snapshot();
    std::string out;
    for (const char* suffix : {"", "-wal", "-journal"}) {
      std::ifstream in(db_ + suffix, std::ios::binary);
      out += std::string(suffix) + (in ? " present:" : " absent") + "\n";
      out += std::string(std::istreambuf_iterator<char>(in), {});
    }
    return out;
  }

  static std::string join(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
  }

 private:
  std::string dir_;
  std::unique_ptr<pgtest::TestSchema> schema_;
  std::string db_;
};

}  // namespace runctl::clitest
