// Reliability property 4: hostile input. Each bad input gets one clear line on stderr, the
// documented exit code (docs/exit-codes.md), an empty stdout, and leaves the database as it was:
// on SQLite the main file, its WAL and the directory around it byte for byte, on PostgreSQL every
// row of the test's schema.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

#include "cli_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

using reliability::db_files;
using reliability::dir_entries;
using reliability::write_file;

constexpr const char* kUnknownId = "00000000-0000-4000-8000-000000000000";

// A scratch database with a flow run and a task run, as runctl leaves it: on SQLite the main file,
// a WAL with committed frames not yet checkpointed, and the WAL index; on PostgreSQL the test's
// schema. That is the baseline every rejected command must leave untouched (CliDb::snapshot(): the
// WAL included on SQLite, every row on PostgreSQL).
struct Fixture {
  CliDb db;
  std::string flow, task;
  Fixture() {
    REQUIRE(db.run({"init"}).exit_code == 0);
    flow = db.create_flow({"--state", "PENDING"});
    task = db.create_task({"--state", "PENDING"});
  }

  // Runs runctl with ARGS (no --db added when `with_db` is false) and checks the rejection.
  void rejects(const std::vector<std::string>& args, int code, const std::string& needle = "",
               bool with_db = true, const std::string& db_path = "") const {
    const std::string path = db_path.empty() ? db.path() : db_path;
    const auto snapshot_before = db.snapshot();
    // A file other than the fixture's (a damaged or foreign one: SQLite-only cases) is left as
    // it was too, byte for byte.
    const auto other_before = db_path.empty() ? reliability::DbFiles{} : db_files(path);
    const auto dir_before = dir_entries(db.dir());
    std::vector<std::string> argv{runctl_binary()};
    if (with_db) argv.insert(argv.end(), {"--db", path});
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult r = run_process(argv);
    INFO("runctl " << CliDb::join(args) << "\nexit " << r.exit_code << "\nstderr: " << r.err
                   << "\nstdout: " << r.out.substr(0, 300));
    CHECK(r.exit_code == code);
    check_one_line(r.err);
    if (!needle.empty()) CHECK(r.err.find(needle) != std::string::npos);
    CHECK(r.out.empty());
    CHECK(db.snapshot() == snapshot_before);
    if (!db_path.empty()) CHECK(db_files(path) == other_before);
    CHECK(dir_entries(db.dir()) == dir_before);
  }

  static void check_one_line(const std::string& err) {
    CHECK(err.rfind("runctl: ", 0) == 0);
    CHECK(!err.empty());
    CHECK(err.find('\n') == err.size() - 1);
    CHECK(err.size() < 2000);  // a clear line, not a dump of the input
  }

  std::string file(const std::string& name, const std::string& bytes) const {
    const std::string path = db.dir() + "/" + name;
    write_file(path, bytes);
    return path;
  }
};

TEST_CASE("reliability: hostile run ids and state types") {
  Fixture f;
  SUBCASE("unknown run id") {
    f.rejects({"set-state", kUnknownId, "RUNNING"}, 66, "not found");
    f.rejects({"show", kUnknownId}, 66, "not found");
    f.rejects({"history", kUnknownId, "--json"}, 66, "not found");
  }
  SUBCASE("malformed UUID") {
    for (const std::string& id :
         {std::string("123"), std::string("not-a-uuid"), f.flow + "0", f.flow.substr(1),
          std::string("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"), std::string(""),
          std::string("'; DROP TABLE flow_run; --"), std::string(100000, 'a')}) {
      CAPTURE(id.substr(0, 40));
      f.rejects({"set-state", id, "RUNNING"}, 65, "not a run id");
    }
  }
  SUBCASE("unknown state type") {
    for (const std::string& type :
         {std::string("WALKING"), std::string(""), std::string("RUNNING "), std::string("NONE"),
          std::string("\xff\xfe"), std::string(100000, 'R')}) {
      f.rejects({"set-state", f.flow, type}, 65, "unknown state type");
    }
  }
}

TEST_CASE("reliability: hostile --details, --data and --param") {
  Fixture f;
  SUBCASE("malformed JSON") {
    f.rejects({"set-state", f.flow, "RUNNING", "--details", "{\"cache_key\":"}, 65, "--details");
    f.rejects({"set-state", f.flow, "RUNNING", "--details", "[]"}, 65, "--details");
    f.rejects({"set-state", f.flow, "RUNNING", "--details", "\xff"}, 65, "--details");
    f.rejects({"set-state", f.flow, "RUNNING", "--data", "{"}, 65, "--data");
    f.rejects({"set-state", f.flow, "RUNNING", "--data", "\"\xc3\x28\""}, 65, "--data");
    f.rejects({"set-state", f.flow, "RUNNING", "--param", "k={"}, 65, "--param");
    f.rejects({"set-state", f.flow, "RUNNING", "--param", "=1"}, 65, "--param");
    f.rejects({"set-state", f.flow, "RUNNING", "--param", "k=[1,"}, 65, "--param");
    f.rejects({"flow-run", "create", "--state", "PENDING", "--details", "{"}, 65, "--details");
  }
  SUBCASE("a details field of the wrong type") {
    for (const std::string& details :
         {std::string(R"({"scheduled_time": 5})"), std::string(R"({"scheduled_time": "soon"})"),
          std::string(R"({"flow_run_id": "not-a-uuid"})"),
          std::string(R"({"pause_reschedule": "yes"})"), std::string(R"({"deferred": 1})"),
          std::string(R"({"cache_key": ["k"]})"), std::string(R"({"run_input_keyset": {"a": 1}})"),
          std::string(R"({"cache_expiration": "2026-13-01T00:00:00Z"})"),
          std::string(R"({"untrackable_result": null})")}) {
      CAPTURE(details);
      f.rejects({"set-state", f.flow, "RUNNING", "--details", details}, 65, "--details");
    }
  }
  SUBCASE("deeply nested JSON") {
    // 60,000 levels fits in one argument (the kernel caps one at 128 KiB).
    const std::string deep = std::string(60000, '[') + std::string(60000, ']');
    f.rejects({"set-state", f.flow, "RUNNING", "--data", deep}, 65, "--data");
    f.rejects({"set-state", f.flow, "RUNNING", "--details", "{\"a\":" + deep + "}"}, 65,
              "--details");
    f.rejects({"set-state", f.flow, "RUNNING", "--param", "k=" + deep}, 65, "--param");
  }
}

TEST_CASE("reliability: hostile policy files") {
  Fixture f;
  auto set_state_with = [&](const std::string& policy, int code, const std::string& needle) {
    f.rejects({"set-state", f.flow, "RUNNING", "--policy", policy}, code, needle);
    f.rejects({"policy", "show", policy}, code, needle);
  };
  SUBCASE("missing") {
    // 66 (not found), as docs/exit-codes.md says for a missing policy file.
    set_state_with(f.db.dir() + "/no-such-policy.json", 66, "no such file");
  }
  SUBCASE("a directory") {
    set_state_with(f.db.dir(), 78, "directory");
  }
  SUBCASE("not JSON") {
    set_state_with(f.file("p.json", "rules: [core]\n"), 78, "not valid JSON");
    set_state_with(f.file("p.json", ""), 78, "$: the file is empty");
    set_state_with(f.file("p.json", std::string("\x00\x01\x02", 3)), 78, "not valid JSON");
    set_state_with(f.file("p.json", "{\"rules\": [\"\xff\"]}"), 78, "not valid JSON");
    set_state_with(f.file("p.json", "{\"rules\": []} trailing"), 78, "not valid JSON");
  }
  SUBCASE("nested 10,000 levels") {
    const std::string deep = std::string(10000, '[') + std::string(10000, ']');
    set_state_with(f.file("p.json", deep), 78, "policy file");
    set_state_with(f.file("p.json", "{\"rules\": " + deep + "}"), 78, "policy file");
    // Deep inside a value the parser keeps: a rejection state's data.
    set_state_with(
        f.file("p.json", R"({"rules": [{"name": "R", "before": [{"reject": {"state": {"type": )"
                         R"("FAILED", "data": )" +
                             deep + "}}}]}]}"),
        78, "policy file");
  }
  SUBCASE("50 MB") {
    std::string big = "{\"rules\": [], \"transforms\": []}";
    big += std::string(50 * 1024 * 1024, ' ');
    set_state_with(f.file("p.json", big), 78, "larger than");
  }
  SUBCASE("unknown keys") {
    set_state_with(f.file("p.json", R"({"rules": [], "rulez": []})"), 78, "unknown key");
    set_state_with(f.file("p.json", R"({"rules": [{"name": "R", "bofore": []}]})"), 78,
                   "unknown key");
  }
  SUBCASE("unknown rule names") {
    set_state_with(f.file("p.json", R"({"rules": ["NoSuchRule"]})"), 78, "NoSuchRule");
    set_state_with(f.file("p.json", R"({"rules": [""]})"), 78, "policy file");
  }
  SUBCASE("@ splices name built-in policies only: no file, so no cycle") {
    const std::string self = f.db.dir() + "/self.json";
    write_file(self, R"({"rules": ["@)" + self + R"("]})");
    set_state_with(self, 78, "unknown built-in policy");
    set_state_with(f.file("p.json", R"({"rules": ["@self.json"]})"), 78, "unknown built-in policy");
    set_state_with(f.file("p.json", R"({"rules": ["@no-such-policy"]})"), 78,
                   "unknown built-in policy");
    set_state_with(f.file("p.json", R"({"rules": ["@"]})"), 78, "unknown built-in policy");
  }
  SUBCASE("strings with NUL bytes, invalid UTF-8, 1 MB names") {
    set_state_with(f.file("p.json", R"({"rules": [{"name": "A\u0000B"}]})"), 78, "NUL");
    set_state_with(
        f.file("p.json", R"({"rules": [{"name": "R", "before": [{"rename": "x\u0000y"}]}]})"), 78,
        "NUL");
    set_state_with(f.file("p.json", "{\"rules\": [{\"name\": \"\xc3\x28\"}]}"), 78,
                   "not valid JSON");
    const std::string huge(1024 * 1024, 'n');
    set_state_with(f.file("p.json", R"({"rules": [{"name": "R", "before": [{"rename": ")" + huge +
                                        R"("}]}]})"),
                   78, "longer than");
    set_state_with(f.file("p.json", R"({"rules": [{"name": ")" + huge + R"("}]})"), 78,
                   "longer than");
  }
}

TEST_CASE("reliability: hostile database files" *
          RUNCTL_SQLITE_ONLY("damaged, foreign and newer SQLite files")) {
  Fixture f;
  const std::string other = f.db.dir() + "/other.db";
  auto all_commands = [&](const std::string& path, int code, const std::string& needle,
                          bool include_create) {
    f.rejects({"set-state", f.flow, "RUNNING"}, code, needle, true, path);
    f.rejects({"show", f.flow}, code, needle, true, path);
    f.rejects({"log", f.flow, "--json"}, code, needle, true, path);
    if (include_create) {
      f.rejects({"init"}, code, needle, true, path);
      f.rejects({"flow-run", "create", "--state", "PENDING"}, code, needle, true, path);
    }
  };
  SUBCASE("empty") {
    write_file(other, "");
    // Nothing to change a run in; a command that needs a database must not initialise one.
    f.rejects({"set-state", f.flow, "RUNNING"}, 65, "not a runctl database", true, other);
    f.rejects({"show", f.flow}, 65, "not a runctl database", true, other);
  }
  SUBCASE("truncated") {
    reliability::checkpoint(f.db.path());  // the whole database in the main file, then cut it
    const std::string whole = *reliability::file_bytes(f.db.path());
    REQUIRE(whole.size() > 8192);
    // Cut inside the header, at the first page, in the middle, and one page short. (One byte
    // short is not damage: SQLite reads the missing tail of the last page as zeros, which it
    // usually was.)
    for (size_t size :
         {size_t{50}, size_t{100}, size_t{4096}, whole.size() / 2, whole.size() - 4096}) {
      CAPTURE(size);
      write_file(other, whole.substr(0, size));
      f.rejects({"set-state", f.flow, "RUNNING"}, 65, "", true, other);
      f.rejects({"show", f.flow}, 65, "", true, other);
    }
  }
  SUBCASE("not SQLite") {
    write_file(other, std::string(8192, 'x'));
    all_commands(other, 65, "not a runctl database", true);
  }
  SUBCASE("someone else's SQLite database") {
    {
      reliability::Sql sql(other, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      sql.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')");
    }
    all_commands(other, 65, "not a runctl database", true);
  }
  SUBCASE("a newer schema") {
    {
      reliability::Sql sql(f.db.path());
      sql.exec("PRAGMA user_version = 999");
    }
    reliability::checkpoint(f.db.path());
    all_commands(f.db.path(), 65, "newer than this runctl supports", true);
  }
  SUBCASE("in a directory that does not exist") {
    const std::string missing = f.db.dir() + "/no/such/dir/runs.db";
    all_commands(missing, 66, "", true);
    CHECK(!std::filesystem::exists(f.db.dir() + "/no"));
  }
  SUBCASE("--db pointing at a directory") {
    std::filesystem::create_directory(f.db.dir() + "/adir");
    all_commands(f.db.dir() + "/adir", 74, "is a directory", true);
  }
}

// Root ignores file permissions, so a read-only database is tried as `nobody` (setpriv, from
// util-linux). Not root: the permission bits alone suffice.
TEST_CASE("reliability: a read-only database: exit 77, nothing written" *
          RUNCTL_SQLITE_ONLY("a read-only file")) {
  Fixture f;
  const bool root = ::geteuid() == 0;
  if (root && !std::filesystem::exists("/usr/bin/setpriv")) {
    MESSAGE("skipped: running as root and /usr/bin/setpriv (util-linux) is missing");
    return;
  }
  // The directory stays writable (SQLite may create its -shm there); the file is not.
  ::chmod(f.db.dir().c_str(), 0777);
  ::chmod(f.db.path().c_str(), 0444);
  auto as_user = [&](std::vector<std::string> args) {
    std::vector<std::string> argv;
    if (root)
      argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
              runctl_binary()};
    else
      argv = {runctl_binary()};
    argv.insert(argv.end(), {"--db", f.db.path()});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  };
  const auto before = db_files(f.db.path());
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"set-state", f.flow, "RUNNING"},
                                             {"set-state", f.task, "RUNNING", "--force"},
                                             {"flow-run", "create", "--state", "PENDING"}}) {
    const ProcessResult r = as_user(args);
    INFO("runctl " << CliDb::join(args) << "\nstderr: " << r.err);
    CHECK(r.exit_code == 77);
    Fixture::check_one_line(r.err);
    CHECK(r.err.find("read-only") != std::string::npos);
    CHECK(db_files(f.db.path()) == before);
  }
  // Reading a read-only database still works, and so does init on one that is up to date
  // (there is nothing to migrate, so nothing to write).
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"show", f.flow, "--json"}, {"history", f.flow}, {"init"}}) {
    const ProcessResult r = as_user(args);
    CHECK_MESSAGE(r.exit_code == 0, CliDb::join(args) << ": " << r.err);
  }
  CHECK(db_files(f.db.path()) == before);
  ::chmod(f.db.path().c_str(), 0644);
}

TEST_CASE("reliability: hostile strings: NUL bytes, invalid UTF-8, huge names") {
  Fixture f;
  const std::string bad_utf8 = "caf\xc3\x28";
  const std::string big(100000, 'n');  // the largest a single argv string comfortably carries
  SUBCASE("invalid UTF-8 in a name, message, tag or key") {
    f.rejects({"set-state", f.flow, "RUNNING", "--name", bad_utf8}, 65, "UTF-8");
    f.rejects({"set-state", f.flow, "RUNNING", "--message", bad_utf8}, 65, "UTF-8");
    f.rejects({"set-state", f.task, "COMPLETED", "--cache-key", bad_utf8}, 65, "UTF-8");
    f.rejects({"set-state", f.flow, "PAUSED", "--pause-key", bad_utf8}, 65, "UTF-8");
    f.rejects({"flow-run", "create", "--name", bad_utf8}, 65, "UTF-8");
    f.rejects({"flow-run", "create", "--tags", "a," + bad_utf8}, 65, "UTF-8");
    f.rejects({"flow-run", "create", "--state", "PENDING", "--state-name", bad_utf8}, 65, "UTF-8");
    f.rejects({"task-run", "create", "--task-key", bad_utf8}, 65, "UTF-8");
    f.rejects({"set-state", f.flow, "RUNNING", "--param", bad_utf8 + "=1"}, 65, "UTF-8");
    f.rejects({"set-state", f.flow, "RUNNING", "--param", "k=" + bad_utf8}, 65, "--param k");
  }
  SUBCASE("NUL bytes inside JSON strings that become names or keys") {
    f.rejects({"set-state", f.task, "COMPLETED", "--details", R"({"cache_key": "a\u0000b"})"}, 65,
              "NUL");
    f.rejects({"set-state", f.flow, "PAUSED", "--details", R"({"pause_key": "\u0000"})"}, 65,
              "NUL");
  }
  SUBCASE("huge names") {
    f.rejects({"set-state", f.flow, "RUNNING", "--name", big}, 65, "longer than");
    f.rejects({"flow-run", "create", "--name", big}, 65, "longer than");
    f.rejects({"task-run", "create", "--task-key", big}, 65, "longer than");
    f.rejects({"flow-run", "create", "--tags", big}, 65, "longer than");
  }
}

TEST_CASE("reliability: timestamps out of range") {
  Fixture f;
  for (const std::string& t :
       {std::string("0000-01-01T00:00:00Z"), std::string("10000-01-01T00:00:00Z"),
        std::string("9999-12-31T23:59:59-01:00"), std::string("0001-01-01T00:00:00+01:00"),
        std::string("2026-02-30T00:00:00Z"), std::string("2026-01-01T24:00:00Z"),
        std::string("-2026-01-01"), std::string("99999999999999999999")}) {
    CAPTURE(t);
    f.rejects({"--now", t, "set-state", f.flow, "RUNNING"}, 64, "--now");
    f.rejects({"set-state", f.flow, "SCHEDULED", "--scheduled-time", t}, 65, "scheduled_time");
    f.rejects({"set-state", f.flow, "RUNNING", "--details", R"({"pause_timeout": ")" + t + "\"}"},
              65, "pause_timeout");
  }
  // The edge of the range is accepted, and what rules compute from it stays readable: a state at
  // the last representable microsecond, bumped or delayed by a rule, must not make the run
  // unreadable.
  const std::string last = "9999-12-31T23:59:59.999999Z";
  const ProcessResult first = f.db.run({"--now", last, "set-state", f.flow, "RUNNING"});
  CHECK_MESSAGE(first.exit_code <= 3, first.err);
  // The second state at that clock is bumped 1 µs past the first (EnsureFlowRunStateTimestamp-
  // IsUnique), out of range: exit 65, one line, and nothing written (the bump is rolled back).
  f.rejects({"--now", last, "set-state", f.flow, "RUNNING", "--force"}, 65,
            "state timestamp 10000-01-01T00:00:00.000000+00:00 is out of range (years 1 to 9999)");
  const ProcessResult show = f.db.run({"show", f.flow, "--json"});
  CHECK_MESSAGE(show.exit_code == 0, show.err);
  const ProcessResult history = f.db.run({"history", f.flow, "--json"});
  CHECK_MESSAGE(history.exit_code == 0, history.err);
}

}  // namespace
}  // namespace runctl::clitest
