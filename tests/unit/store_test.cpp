#include "store/sqlite/sqlite_database.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <tuple>

#include "engine/services.hpp"  // RetryableError
#include "engine/state_json.hpp"
#include "engine/state_text.hpp"
#include "store/log_codec.hpp"
#include "store/migrations.hpp"
#include "unit/error_of.hpp"
#include "util/error.hpp"

namespace runctl {
namespace {

namespace fs = std::filesystem;

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/runctl_store_test_XXXXXX";
    const char* made = mkdtemp(pattern);
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A store on the SQLite file at `path`: the tests below check the SQLite backend itself (its
// files, pragmas and migrations); store_contract_test.cpp checks what every backend must do.
class Store : public SqliteDatabase {
 public:
  Store(const std::string& path, OpenMode mode, int busy_timeout_ms = 5000)
      : SqliteDatabase(path, mode, OpenOptions{busy_timeout_ms}), path_(path) {}
  const std::string& path() const { return path_; }
  // A connection of its own on the same file, for what the repositories do not expose.
  SQLite::Database& db() {
    if (!raw_) raw_ = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READWRITE);
    return *raw_;
  }

 private:
  std::string path_;
  std::unique_ptr<SQLite::Database> raw_;
};

Timestamp at(const char* text) {
  auto t = parse_timestamp(text);
  REQUIRE(t.has_value());
  return *t;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::int64_t count(Store& store, const std::string& sql) {
  return store.db().execAndGet(sql).getInt64();
}

constexpr const char* kFlowId = "11111111-1111-4111-8111-111111111111";
constexpr const char* kTaskId = "22222222-2222-4222-8222-222222222222";
constexpr const char* kOtherFlowId = "33333333-3333-4333-8333-333333333333";

Run minimal_run(RunKind kind, const std::string& id) {
  Run r;
  r.kind = kind;
  r.id = id;
  r.name = "minimal";
  r.created = at("2026-01-01T10:00:00Z");
  return r;
}

State make_state(const std::string& id, StateType type, Timestamp t,
                 std::optional<Json> data = std::nullopt) {
  State s;
  s.id = id;
  s.type = type;
  s.name = std::string(default_state_name(type));
  s.timestamp = t;
  if (data) s.data = std::make_shared<Json>(*data);
  return s;
}

std::string state_id(int n) {
  char buf[37];
  std::snprintf(buf, sizeof buf, "aaaaaaaa-aaaa-4aaa-8aaa-%012d", n);
  return buf;
}

// A database with one flow run and one task run of that flow.
struct Fixture {
  TempDir dir;
  std::string path = dir.file("runs.db");
  Store store{path, OpenMode::kCreate};
  Run flow = minimal_run(RunKind::kFlow, kFlowId);
  Run task = [] {
    Run r = minimal_run(RunKind::kTask, kTaskId);
    r.flow_run_id = kFlowId;
    return r;
  }();

  Fixture() {
    store.runs().insert_run(flow);
    store.runs().insert_run(task);
  }
};

}  // namespace

TEST_SUITE("store: opening") {
  TEST_CASE("kCreate makes the file, migrates it and sets user_version") {
    TempDir dir;
    const std::string path = dir.file("new.db");
    Store store(path, OpenMode::kCreate);
    CHECK(fs::exists(path));
    CHECK(SqliteDatabase::latest_schema_version() >= 1);
    CHECK(store.schema_version() == SqliteDatabase::latest_schema_version());
    CHECK(store.path() == path);
    for (const char* table : {"flow_run", "task_run", "flow_run_state", "task_run_state",
                              "artifact", "orchestration_log"})
      CHECK(store.db().tableExists(table));
    CHECK(store.db().execAndGet("PRAGMA journal_mode").getString() == "wal");
    CHECK(store.runs().count_runs(RunKind::kFlow) == 0);
  }

  TEST_CASE("an existing database reopens in kRead and kCreate without change") {
    TempDir dir;
    const std::string path = dir.file("runs.db");
    {
      Store store(path, OpenMode::kCreate);
      store.runs().insert_run(minimal_run(RunKind::kFlow, kFlowId));
    }
    {
      Store store(path, OpenMode::kRead);
      CHECK(store.schema_version() == SqliteDatabase::latest_schema_version());
      CHECK(store.runs().load_run(RunKind::kFlow, kFlowId).has_value());
    }
    Store again(path, OpenMode::kCreate);
    CHECK(again.runs().count_runs(RunKind::kFlow) == 1);
  }

  TEST_CASE("kRead of a missing file is kNotFound and creates nothing") {
    TempDir dir;
    const std::string path = dir.file("missing.db");
    auto e = error_of([&] { Store store(path, OpenMode::kRead); });
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kNotFound);
    CHECK(std::string(e->what()) ==
          "database not found: " + path + " (`runctl --db " + path + " init` creates it)");
    CHECK_FALSE(fs::exists(path));
  }

  TEST_CASE("kCreate in a missing directory is kNotFound") {
    TempDir dir;
    const std::string missing_dir = dir.file("nope");
    auto e = error_of([&] { Store store(missing_dir + "/x.db", OpenMode::kCreate); });
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kNotFound);
    CHECK(std::string(e->what()) == "directory does not exist: " + missing_dir);
  }

  TEST_CASE("a directory is not a database") {
    TempDir dir;
    const std::string sub = dir.file("sub");
    fs::create_directory(sub);
    for (OpenMode mode : {OpenMode::kRead, OpenMode::kCreate}) {
      auto e = error_of([&] { Store store(sub, mode); });
      REQUIRE(e);
      CHECK(e->kind() == ErrorKind::kIo);
      CHECK(std::string(e->what()).find("is a directory") != std::string::npos);
    }
  }

  TEST_CASE("a file that is not SQLite is kBadData and is left untouched") {
    TempDir dir;
    const std::string path = dir.file("notes.txt");
    const std::string garbage(4096, 'x');
    write_file(path, "this is not a database\n" + garbage);
    for (OpenMode mode : {OpenMode::kRead, OpenMode::kCreate}) {
      auto e = error_of([&] { Store store(path, mode); });
      REQUIRE(e);
      CHECK(e->kind() == ErrorKind::kBadData);
      CHECK(std::string(e->what()).rfind(path + " is not a runctl database: ", 0) == 0);
    }
    CHECK(read_file(path) == "this is not a database\n" + garbage);
  }

  TEST_CASE("an empty file: not a runctl database for kRead, migrated by kCreate") {
    TempDir dir;
    const std::string path = dir.file("empty.db");
    write_file(path, "");
    auto e = error_of([&] { Store store(path, OpenMode::kRead); });
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kBadData);
    CHECK(std::string(e->what()).rfind(path + " is not a runctl database", 0) == 0);
    CHECK(fs::file_size(path) == 0);

    Store store(path, OpenMode::kCreate);
    CHECK(store.schema_version() == SqliteDatabase::latest_schema_version());
  }

  TEST_CASE("another program's SQLite database is not a runctl database") {
    TempDir dir;
    const std::string path = dir.file("other.db");
    {
      SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      raw.exec("CREATE TABLE notes (body TEXT)");
    }
    for (OpenMode mode : {OpenMode::kRead, OpenMode::kCreate}) {
      auto e = error_of([&] { Store store(path, mode); });
      REQUIRE(e);
      CHECK(e->kind() == ErrorKind::kBadData);
      CHECK(std::string(e->what()).rfind(path + " is not a runctl database", 0) == 0);
    }
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    CHECK_FALSE(raw.tableExists("flow_run"));
  }

  TEST_CASE("a newer schema version is refused") {
    TempDir dir;
    const std::string path = dir.file("future.db");
    { Store store(path, OpenMode::kCreate); }
    {
      SQLite::Database raw(path, SQLite::OPEN_READWRITE);
      raw.exec("PRAGMA user_version = 999");
    }
    for (OpenMode mode : {OpenMode::kRead, OpenMode::kCreate}) {
      auto e = error_of([&] { Store store(path, mode); });
      REQUIRE(e);
      CHECK(e->kind() == ErrorKind::kBadData);
      CHECK(std::string(e->what()) ==
            path + " has schema version 999, newer than this runctl supports (" +
                std::to_string(SqliteDatabase::latest_schema_version()) + "); upgrade runctl");
    }
  }
}

TEST_SUITE("store: runs") {
  // Every column round-trips through insert, load and update: store_contract_test.cpp, on every
  // backend.

  TEST_CASE("timestamps are stored as fixed-width ISO text, updated follows the run") {
    TempDir dir;
    Store store(dir.file("runs.db"), OpenMode::kCreate);
    Run run = minimal_run(RunKind::kFlow, kFlowId);
    store.runs().insert_run(run);
    SQLite::Statement q(store.db(), "SELECT created, updated, tags FROM flow_run WHERE id = ?1");
    q.bind(1, run.id);
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getString() == "2026-01-01T10:00:00.000000+00:00");
    CHECK(q.getColumn(1).getString() == "2026-01-01T10:00:00.000000+00:00");
    CHECK(q.getColumn(2).getString() == "[]");
    q.reset();

    run.state_timestamp = at("2026-01-01T10:05:00Z");
    store.runs().update_run(run);
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(1).getString() == "2026-01-01T10:05:00.000000+00:00");
  }

  TEST_CASE("absent runs: load_run, find_run_kind, update_run") {
    TempDir dir;
    Store store(dir.file("runs.db"), OpenMode::kCreate);
    CHECK_FALSE(store.runs().load_run(RunKind::kFlow, kFlowId));
    CHECK_FALSE(store.runs().find_run_kind(kFlowId));

    store.runs().insert_run(minimal_run(RunKind::kFlow, kFlowId));
    store.runs().insert_run(minimal_run(RunKind::kTask, kTaskId));
    CHECK(store.runs().find_run_kind(kFlowId) == RunKind::kFlow);
    CHECK(store.runs().find_run_kind(kTaskId) == RunKind::kTask);
    CHECK_FALSE(store.runs().find_run_kind(kOtherFlowId));
    CHECK_FALSE(store.runs().load_run(RunKind::kTask, kFlowId));  // wrong kind

    auto e = error_of([&] { store.runs().update_run(minimal_run(RunKind::kFlow, kOtherFlowId)); });
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kNotFound);
  }

  TEST_CASE("a duplicate run id is an error, not a silent overwrite") {
    TempDir dir;
    Store store(dir.file("runs.db"), OpenMode::kCreate);
    store.runs().insert_run(minimal_run(RunKind::kFlow, kFlowId));
    CHECK_THROWS_AS(store.runs().insert_run(minimal_run(RunKind::kFlow, kFlowId)), Error);
  }

  TEST_CASE("corrupt stored JSON is reported as kBadData") {
    TempDir dir;
    Store store(dir.file("runs.db"), OpenMode::kCreate);
    store.runs().insert_run(minimal_run(RunKind::kFlow, kFlowId));
    SQLite::Statement u(store.db(), "UPDATE flow_run SET tags = '[1' WHERE id = ?1");
    u.bind(1, kFlowId);
    u.exec();
    auto e = error_of([&] { store.runs().load_run(RunKind::kFlow, kFlowId); });
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kBadData);
    CHECK(std::string(e->what()).find("tags") != std::string::npos);
  }
}

TEST_SUITE("store: states") {
  TEST_CASE("write_state, load_current_state and load_history") {
    Fixture f;
    State s1 = make_state(state_id(1), StateType::kScheduled, at("2026-01-01T12:00:03Z"));
    s1.details->scheduled_time = at("2026-01-01T12:05:00Z");
    s1.details->flow_run_id = kFlowId;
    s1.details->run_input_keyset = Json{{"k", "v"}};
    State s2 = make_state(state_id(2), StateType::kPending, at("2026-01-01T12:00:01Z"));
    s2.message = "first";
    State s3 = make_state(state_id(3), StateType::kRunning, at("2026-01-01T12:00:02Z"));
    s3.details->deferred.reset();
    s3.details->retriable = false;
    for (State* s : {&s1, &s2, &s3}) f.store.runs().write_state(f.flow, *s);

    f.flow.state_id = s3.id;
    StatePtr current = f.store.runs().load_current_state(f.flow);
    REQUIRE(current);
    CHECK(current->id == s3.id);
    CHECK(current->type == StateType::kRunning);
    CHECK(current->name == "Running");
    CHECK(current->timestamp == s3.timestamp);
    CHECK_FALSE(current->message);
    CHECK(*current->details == *s3.details);
    CHECK_FALSE(current->data);

    auto history = f.store.runs().load_history(f.flow);
    REQUIRE(history.size() == 3);
    CHECK(history[0]->id == s2.id);  // ordered by timestamp, not insertion
    CHECK(history[0]->message == "first");
    CHECK(history[1]->id == s3.id);
    CHECK(history[2]->id == s1.id);
    CHECK(*history[2]->details == *s1.details);

    CHECK(f.store.runs().load_history(f.task).empty());
    Run stateless = f.task;
    CHECK_FALSE(f.store.runs().load_current_state(stateless));
    stateless.state_id = state_id(99);
    CHECK_FALSE(f.store.runs().load_current_state(stateless));
  }

  TEST_CASE("load_current_state: by the run's (id, timestamp) key, else by id alone") {
    Fixture f;
    State s1 = make_state(state_id(1), StateType::kPending, at("2026-01-01T12:00:01Z"));
    State s2 = make_state(state_id(2), StateType::kRunning, at("2026-01-01T12:00:02Z"));
    for (State* s : {&s1, &s2}) f.store.runs().write_state(f.flow, *s);

    Run run = f.flow;
    run.state_id = s1.id;
    run.state_timestamp = s1.timestamp;  // the run's columns name the row: the key finds it
    REQUIRE(f.store.runs().load_current_state(run));
    CHECK(f.store.runs().load_current_state(run)->id == s1.id);
    // Columns edited by hand, out of step with the row: the id still finds it.
    run.state_timestamp = s2.timestamp;
    REQUIRE(f.store.runs().load_current_state(run));
    CHECK(f.store.runs().load_current_state(run)->id == s1.id);
    run.state_timestamp.reset();
    CHECK(f.store.runs().load_current_state(run)->id == s1.id);
    run.state_id = state_id(3);
    CHECK_FALSE(f.store.runs().load_current_state(run));
  }

  TEST_CASE("flow state data becomes an artifact, artifact_* keys stripped in place") {
    Fixture f;
    State s = make_state(state_id(1), StateType::kCompleted, at("2026-01-01T12:00:00Z"),
                         Json{{"artifact_key", "my-result"},
                              {"value", 42},
                              {"artifact_type", "result"},
                              {"artifact_description", "the answer"}});
    auto shared_data = s.data;  // a shallow copy of the state sees the stripping too
    f.store.runs().write_state(f.flow, s);
    CHECK(*s.data == Json{{"value", 42}});
    CHECK(*shared_data == Json{{"value", 42}});

    SQLite::Statement q(f.store.db(),
                        "SELECT a.key, a.type, a.description, a.data, a.flow_run_id, "
                        "a.task_run_id, a.created FROM flow_run_state s JOIN artifact a ON "
                        "a.id = s.result_artifact_id WHERE s.id = ?1");
    q.bind(1, s.id);
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getString() == "my-result");
    CHECK(q.getColumn(1).getString() == "result");
    CHECK(q.getColumn(2).getString() == "the answer");
    CHECK(Json::parse(q.getColumn(3).getString()) == Json{{"value", 42}});
    CHECK(q.getColumn(4).getString() == kFlowId);
    CHECK(q.getColumn(5).isNull());
    CHECK(q.getColumn(6).getString() == "2026-01-01T12:00:00.000000+00:00");

    f.flow.state_id = s.id;
    StatePtr loaded = f.store.runs().load_current_state(f.flow);
    REQUIRE(loaded);
    REQUIRE(loaded->data);
    CHECK(*loaded->data == Json{{"value", 42}});
  }

  TEST_CASE("task state artifacts link the task and its flow, falsy keys are dropped") {
    Fixture f;
    State s = make_state(state_id(1), StateType::kCompleted, at("2026-01-01T12:00:00Z"),
                         Json{{"artifact_key", ""}, {"artifact_type", nullptr}, {"x", 1}});
    f.store.runs().write_state(f.task, s);
    CHECK(*s.data == Json{{"x", 1}});
    SQLite::Statement q(f.store.db(),
                        "SELECT a.key, a.type, a.description, a.flow_run_id, a.task_run_id "
                        "FROM task_run_state s JOIN artifact a ON a.id = s.result_artifact_id "
                        "WHERE s.id = ?1");
    q.bind(1, s.id);
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).isNull());
    CHECK(q.getColumn(1).isNull());
    CHECK(q.getColumn(2).isNull());
    CHECK(q.getColumn(3).getString() == kFlowId);
    CHECK(q.getColumn(4).getString() == kTaskId);
  }

  TEST_CASE("scalar and list data are stored as they are") {
    Fixture f;
    State s1 = make_state(state_id(1), StateType::kCompleted, at("2026-01-01T12:00:00Z"), 42);
    State s2 = make_state(state_id(2), StateType::kCompleted, at("2026-01-01T12:00:01Z"),
                          Json::array({1, "two"}));
    f.store.runs().write_state(f.flow, s1);
    f.store.runs().write_state(f.flow, s2);
    auto history = f.store.runs().load_history(f.flow);
    REQUIRE(history.size() == 2);
    REQUIRE(history[0]->data);
    CHECK(*history[0]->data == 42);
    REQUIRE(history[1]->data);
    CHECK(*history[1]->data == Json::array({1, "two"}));
  }

  TEST_CASE("unpersisted and null data store no artifact and read back as null") {
    Fixture f;
    const Json unpersisted = {{"type", "unpersisted"}, {"artifact_key", "kept"}};
    State s1 =
        make_state(state_id(1), StateType::kCompleted, at("2026-01-01T12:00:00Z"), unpersisted);
    State s2 =
        make_state(state_id(2), StateType::kCompleted, at("2026-01-01T12:00:01Z"), Json(nullptr));
    f.store.runs().write_state(f.task, s1);
    f.store.runs().write_state(f.task, s2);
    CHECK(*s1.data == unpersisted);  // not stripped: nothing was persisted
    CHECK(count(f.store, "SELECT count(*) FROM artifact") == 0);
    for (const StatePtr& s : f.store.runs().load_history(f.task)) CHECK_FALSE(s->data);
  }

  TEST_CASE("a non-string artifact_key fails validation, not the store") {
    Fixture f;
    State s = make_state(state_id(1), StateType::kCompleted, at("2026-01-01T12:00:00Z"),
                         Json{{"artifact_key", 5}, {"v", 1}});
    // Not a runctl::Error, so the engine turns it into ABORT as Prefect's model error would.
    CHECK_THROWS_WITH_AS(f.store.runs().write_state(f.flow, s),
                         "state data artifact_key must be a string, got 5", std::invalid_argument);
    CHECK(*s.data == Json{{"v", 1}});
    CHECK(count(f.store, "SELECT count(*) FROM flow_run_state") == 0);
    CHECK(count(f.store, "SELECT count(*) FROM artifact") == 0);
  }

  TEST_CASE("the legacy data column wins over the artifact when truthy") {
    Fixture f;
    State s = make_state(state_id(1), StateType::kCompleted, at("2026-01-01T12:00:00Z"),
                         Json{{"from", "artifact"}});
    f.store.runs().write_state(f.flow, s);
    f.flow.state_id = s.id;
    SQLite::Statement u(f.store.db(), "UPDATE flow_run_state SET data = ?2 WHERE id = ?1");
    u.bind(1, s.id);
    u.bind(2, R"({"from": "legacy"})");
    u.exec();
    StatePtr loaded = f.store.runs().load_current_state(f.flow);
    REQUIRE(loaded);
    REQUIRE(loaded->data);
    CHECK(*loaded->data == Json{{"from", "legacy"}});

    u.reset();
    u.bind(2, "{}");  // falsy: falls back to the artifact
    u.exec();
    loaded = f.store.runs().load_current_state(f.flow);
    REQUIRE(loaded);
    REQUIRE(loaded->data);
    CHECK(*loaded->data == Json{{"from", "artifact"}});
  }

  TEST_CASE("a second state at the same timestamp is kBadData and leaves no artifact") {
    Fixture f;
    const Timestamp t = at("2026-01-01T12:00:00Z");
    State first = make_state(state_id(1), StateType::kRunning, t);
    f.store.runs().write_state(f.task, first);
    State again = make_state(state_id(2), StateType::kCompleted, t, Json{{"v", 1}});
    auto e = error_of([&] { f.store.runs().write_state(f.task, again); });
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kBadData);
    CHECK(std::string(e->what()) == std::string("run ") + kTaskId +
                                        " already has a state at 2026-01-01T12:00:00.000000+00:00;"
                                        " a run's state timestamps must be unique");
    CHECK(count(f.store, "SELECT count(*) FROM artifact") == 0);
    CHECK(f.store.runs().load_history(f.task).size() == 1);

    // The same timestamp on another run is fine.
    State other = make_state(state_id(3), StateType::kRunning, t);
    f.store.runs().write_state(f.flow, other);
  }
}

TEST_SUITE("store: transactions") {
  TEST_CASE("WriteTransaction commits, rolls back, and rolls back when dropped") {
    Fixture f;
    {
      WriteTransaction tx(f.store);
      f.store.runs().insert_run(minimal_run(RunKind::kFlow, kOtherFlowId));
      tx.rollback();
    }
    CHECK_FALSE(f.store.runs().find_run_kind(kOtherFlowId));
    {
      WriteTransaction tx(f.store);
      f.store.runs().insert_run(minimal_run(RunKind::kFlow, kOtherFlowId));
      State s =
          make_state(state_id(1), StateType::kPending, at("2026-01-01T12:00:00Z"), Json{{"a", 1}});
      f.store.runs().write_state(f.flow, s);
    }
    CHECK_FALSE(f.store.runs().find_run_kind(kOtherFlowId));
    CHECK(count(f.store, "SELECT count(*) FROM artifact") == 0);
    CHECK(count(f.store, "SELECT count(*) FROM flow_run_state") == 0);
    {
      WriteTransaction tx(f.store);
      f.store.runs().insert_run(minimal_run(RunKind::kFlow, kOtherFlowId));
      tx.commit();
    }
    CHECK(f.store.runs().find_run_kind(kOtherFlowId) == RunKind::kFlow);
  }

  TEST_CASE("many statements reuse their prepared form inside one transaction") {
    TempDir dir;
    const std::string path = dir.file("bulk.db");
    {
      Store store(path, OpenMode::kCreate);
      WriteTransaction tx(store);
      for (int i = 0; i < 500; ++i) {
        Run r = minimal_run(RunKind::kFlow, state_id(i));
        store.runs().insert_run(r);
        State s = make_state(state_id(100000 + i), StateType::kRunning, r.created, Json{{"i", i}});
        store.runs().write_state(r, s);
        r.state_id = s.id;
        store.runs().update_run(r);
      }
      tx.commit();
    }
    Store store(path, OpenMode::kRead);
    CHECK(store.runs().count_runs(RunKind::kFlow) == 500);
    auto run = store.runs().load_run(RunKind::kFlow, state_id(250));
    REQUIRE(run);
    StatePtr s = store.runs().load_current_state(*run);
    REQUIRE(s);
    REQUIRE(s->data);
    CHECK(*s->data == Json{{"i", 250}});
  }

  TEST_CASE("a writer held by another connection makes the store busy") {
    TempDir dir;
    const std::string path = dir.file("busy.db");
    { Store create(path, OpenMode::kCreate); }
    Store store(path, OpenMode::kRead, 50);
    Run flow = minimal_run(RunKind::kFlow, kFlowId);
    store.runs().insert_run(flow);

    SQLite::Database other(path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");

    auto e = error_of([&] { WriteTransaction tx(store); });
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kBusy);
    CHECK(std::string(e->what()) ==
          "database is busy: " + path +
              " (locked by another process for longer than the busy timeout)");

    State s = make_state(state_id(1), StateType::kRunning, at("2026-01-01T12:00:00Z"));
    CHECK_THROWS_AS(store.runs().write_state(flow, s), RetryableError);
    CHECK(store.runs().load_run(RunKind::kFlow, kFlowId).has_value());  // readers are not blocked

    other.exec("ROLLBACK");
    WriteTransaction tx(store);
    store.runs().write_state(flow, s);
    tx.commit();
    CHECK(store.runs().load_history(flow).size() == 1);
  }
}

TEST_SUITE("store: orchestration log") {
  TEST_CASE("insert_log and load_log round-trip, oldest first, per run") {
    Fixture f;
    LogEntry a;
    a.run_id = kFlowId;
    a.run_kind = RunKind::kFlow;
    a.at = at("2026-01-01T12:00:00.5Z");
    a.initial_type = StateType::kPending;
    a.proposed_state = Json{{"type", "RUNNING"}, {"name", "Running"}};
    a.status = "ACCEPT";
    a.details = Json{{"type", "accept_details"}};
    a.validated_state_id = state_id(1);
    a.rule_signature =
        Signature(std::vector<std::string>{"PreventPendingTransitions", "CopyScheduledTime"});
    a.finalization_signature = Signature(std::vector<std::string>{"SetStartTime"});
    a.duration_us = 1234;
    a.policy = "CoreFlowPolicy";
    a.forced = false;

    LogEntry b;
    b.run_id = kFlowId;
    b.run_kind = RunKind::kFlow;
    b.at = at("2026-01-01T12:00:01Z");
    b.status = "ABORT";
    b.details = Json{{"type", "abort_details"}, {"reason", "nope"}};
    b.error = "something broke";
    b.policy = "policy.json";
    b.forced = true;

    LogEntry c = b;
    c.run_id = kTaskId;
    c.run_kind = RunKind::kTask;

    const std::int64_t id_a = f.store.runs().insert_log(a);
    f.store.runs().insert_log(c);
    const std::int64_t id_b = f.store.runs().insert_log(b);
    CHECK(id_a > 0);
    CHECK(id_b > id_a);

    auto log = f.store.runs().load_log(kFlowId);
    REQUIRE(log.size() == 2);
    const LogEntry& la = log[0];
    CHECK(la.id == id_a);
    CHECK(la.run_id == a.run_id);
    CHECK(la.run_kind == RunKind::kFlow);
    CHECK(la.at == a.at);
    CHECK(la.initial_type == a.initial_type);
    CHECK(la.proposed_state == a.proposed_state);
    CHECK(la.status == a.status);
    CHECK(la.details == a.details);
    CHECK(la.validated_state_id == a.validated_state_id);
    CHECK(la.rule_signature == a.rule_signature);
    CHECK(la.finalization_signature == a.finalization_signature);
    CHECK_FALSE(la.error);
    CHECK(la.duration_us == 1234);
    CHECK(la.policy == a.policy);
    CHECK_FALSE(la.forced);

    const LogEntry& lb = log[1];
    CHECK(lb.id == id_b);
    CHECK_FALSE(lb.initial_type);
    CHECK(lb.proposed_state.is_null());
    CHECK_FALSE(lb.validated_state_id);
    CHECK(lb.rule_signature.empty());
    CHECK(lb.error == "something broke");
    CHECK(lb.forced);

    auto task_log = f.store.runs().load_log(kTaskId);
    REQUIRE(task_log.size() == 1);
    CHECK(task_log[0].run_kind == RunKind::kTask);
    CHECK(f.store.runs().load_log(kOtherFlowId).empty());
  }
}

TEST_SUITE("store: cache, queue and lookups") {
  TEST_CASE("find_cached_state: newest live entry only, with its data") {
    Fixture f;
    State old_state = make_state(state_id(1), StateType::kCompleted, at("2026-01-01T12:00:00Z"),
                                 Json{{"answer", 1}});
    State new_state = make_state(state_id(2), StateType::kCompleted, at("2026-01-01T12:00:01Z"),
                                 Json{{"answer", 2}});
    f.store.runs().write_state(f.task, old_state);
    f.store.runs().write_state(f.task, new_state);
    const Timestamp now = at("2026-01-01T13:00:00Z");
    f.store.runs().insert_cache_entry(state_id(10), "k", std::nullopt, old_state.id,
                                      at("2026-01-01T12:00:00Z"));
    f.store.runs().insert_cache_entry(state_id(11), "k", at("2026-01-01T14:00:00Z"), new_state.id,
                                      at("2026-01-01T12:00:01Z"));

    StatePtr hit = f.store.runs().find_cached_state("k", now);
    REQUIRE(hit);
    CHECK(hit->id == new_state.id);
    REQUIRE(hit->data);
    CHECK(*hit->data == Json{{"answer", 2}});

    // Once the newest entry expires, the older one (no expiration) is found.
    hit = f.store.runs().find_cached_state("k", at("2026-01-01T14:00:00Z"));
    REQUIRE(hit);
    CHECK(hit->id == old_state.id);

    CHECK_FALSE(f.store.runs().find_cached_state("other", now));
  }

  TEST_CASE("find_cached_state: a newest entry whose state is gone is a miss") {
    Fixture f;
    State s = make_state(state_id(1), StateType::kCompleted, at("2026-01-01T12:00:00Z"));
    f.store.runs().write_state(f.task, s);
    f.store.runs().insert_cache_entry(state_id(10), "k", std::nullopt, s.id,
                                      at("2026-01-01T12:00:00Z"));
    f.store.runs().insert_cache_entry(state_id(11), "k", std::nullopt, state_id(99),
                                      at("2026-01-01T12:00:01Z"));
    CHECK_FALSE(f.store.runs().find_cached_state("k", at("2026-01-01T13:00:00Z")));
  }

  TEST_CASE("flow_state_timestamp_taken") {
    Fixture f;
    const Timestamp t = at("2026-01-01T12:00:00Z");
    CHECK_FALSE(f.store.runs().flow_state_timestamp_taken(kFlowId, t));
    State s = make_state(state_id(1), StateType::kRunning, t);
    f.store.runs().write_state(f.flow, s);
    CHECK(f.store.runs().flow_state_timestamp_taken(kFlowId, t));
    CHECK_FALSE(f.store.runs().flow_state_timestamp_taken(kFlowId, t + 1));
    CHECK_FALSE(f.store.runs().flow_state_timestamp_taken(kOtherFlowId, t));
  }

  TEST_CASE("failed_task_runs lists the flow's task runs whose state is FAILED, by id") {
    Fixture f;
    f.store.runs().insert_run(minimal_run(RunKind::kFlow, kOtherFlowId));
    auto task = [&](int n, const char* flow, std::optional<StateType> type) {
      Run r = minimal_run(RunKind::kTask, state_id(n));
      r.flow_run_id = flow;
      r.state_type = type;
      f.store.runs().insert_run(r);
    };
    task(3, kFlowId, StateType::kFailed);
    task(1, kFlowId, StateType::kFailed);
    task(2, kFlowId, StateType::kCompleted);
    task(4, kOtherFlowId, StateType::kFailed);
    task(5, kFlowId, std::nullopt);
    CHECK(f.store.runs().failed_task_runs(kFlowId) ==
          std::vector<std::string>{state_id(1), state_id(3)});
    CHECK(f.store.runs().failed_task_runs(kOtherFlowId) == std::vector<std::string>{state_id(4)});
  }

  TEST_CASE("the task queue lists entries oldest first, optionally for one key") {
    Fixture f;
    Run a = f.task;
    a.task_key = "key-a";
    Run b = minimal_run(RunKind::kTask, state_id(7));
    b.task_key = "key-b";
    f.store.runs().enqueue_task_run(state_id(20), a, "scheduled", at("2026-01-01T12:00:00Z"));
    f.store.runs().enqueue_task_run(state_id(21), b, "scheduled", at("2026-01-01T12:00:01Z"));
    f.store.runs().enqueue_task_run(state_id(22), a, "retry", at("2026-01-01T12:00:02Z"));

    auto all = f.store.runs().list_task_queue(std::nullopt);
    REQUIRE(all.size() == 3);
    CHECK(all[0].id == state_id(20));
    CHECK(all[0].task_key == "key-a");
    CHECK(all[0].queue == "scheduled");
    CHECK(all[0].task_run_id == kTaskId);
    CHECK(all[0].enqueued_at == at("2026-01-01T12:00:00Z"));
    CHECK(all[1].id == state_id(21));
    CHECK(all[2].id == state_id(22));
    CHECK(all[2].queue == "retry");

    auto only_a = f.store.runs().list_task_queue(std::string("key-a"));
    REQUIRE(only_a.size() == 2);
    CHECK(only_a[0].id == state_id(20));
    CHECK(only_a[1].id == state_id(22));
    CHECK(f.store.runs().list_task_queue(std::string("nope")).empty());

    CHECK_THROWS_AS(f.store.runs().enqueue_task_run(state_id(23), a, "bogus", 0), Error);
  }
}

TEST_SUITE("store: schema 004") {
  // A database as schema 003 left it, with a run, two states, a log row and an event, migrated
  // by opening it: every row is kept and reads back as before.
  TEST_CASE("migrating from 003 keeps states and events, and history stays in time order") {
    TempDir dir;
    const std::string path = dir.file("old.db");
    {
      SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      for (const Migration& m : sqlite_migrations())
        if (m.version <= 3) raw.exec(m.sql);
      raw.exec("PRAGMA user_version = 3");
      raw.exec(
          std::string("INSERT INTO flow_run (id, created, updated, name, state_id, state_type, "
                      "state_name, state_timestamp) VALUES ('") +
          kFlowId +
          "', '2026-01-01T10:00:00.000000+00:00', "
          "'2026-01-01T10:00:00.000000+00:00', 'old', '" +
          state_id(2) + "', 'RUNNING', 'Running', '2026-01-01T10:00:02.000000+00:00')");
      // Inserted newest first: history must come back by timestamp, not by insertion.
      for (const auto& [n, type, name, second] :
           {std::tuple{2, "RUNNING", "Running", 2}, std::tuple{1, "PENDING", "Pending", 1}})
        raw.exec(
            "INSERT INTO flow_run_state (id, created, flow_run_id, type, name, timestamp, "
            "state_details) VALUES ('" +
            state_id(n) + "', '2026-01-01T10:00:0" + std::to_string(second) + ".000000+00:00', '" +
            kFlowId + "', '" + type + "', '" + name + "', '2026-01-01T10:00:0" +
            std::to_string(second) + ".000000+00:00', '{}')");
      // Log rows: the creation, the RUNNING transition, then a rejection that kept that state.
      // Each event belongs to the first row that validated its state.
      const std::pair<int, const char*> rows[] = {{1, "ACCEPT"}, {2, "ACCEPT"}, {2, "REJECT"}};
      for (const auto& [n, status] : rows)
        raw.exec(std::string("INSERT INTO orchestration_log (run_id, run_kind, at, status, "
                             "details, validated_state_id, rule_signature, "
                             "finalization_signature, duration_us, policy) VALUES ('") +
                 kFlowId + "', 'flow', '2026-01-01T10:00:00.000000+00:00', '" + status +
                 "', '{}', '" + state_id(n) + "', '[]', '[]', 0, 'CoreFlowPolicy')");
      for (const auto& [n, name] : {std::pair{1, "Pending"}, std::pair{2, "Running"}})
        raw.exec(std::string("INSERT INTO events (id, occurred, event, resource_id, resource, "
                             "related, payload) VALUES ('") +
                 state_id(n) + "', '2026-01-01T10:00:0" + std::to_string(n) +
                 ".000000+00:00', 'prefect.flow-run." + name + "', 'prefect.flow-run." + kFlowId +
                 "', '{}', '[]', '{}')");
    }
    Store store(path, OpenMode::kCreate);
    CHECK(store.schema_version() == SqliteDatabase::latest_schema_version());
    const std::optional<Run> run = store.runs().load_run(RunKind::kFlow, kFlowId);
    REQUIRE(run);
    const StatePtr current = store.runs().load_current_state(*run);
    REQUIRE(current);
    CHECK(current->id == state_id(2));
    const auto history = store.runs().load_history(*run);
    REQUIRE(history.size() == 2);
    CHECK(history[0]->id == state_id(1));
    CHECK(history[1]->id == state_id(2));
    // The events moved into their log rows; the table is gone.
    CHECK_FALSE(store.db().tableExists("events"));
    SQLite::Statement events(store.db(),
                             "SELECT id, validated_state_id, event, event_occurred FROM "
                             "orchestration_log ORDER BY id");
    std::vector<std::string> seen;
    while (events.executeStep())
      seen.push_back(events.getColumn(0).getString() + " " + events.getColumn(1).getString() + " " +
                     events.getColumn(2).getString() + " " + events.getColumn(3).getString());
    CHECK(seen ==
          std::vector<std::string>{
              "1 " + state_id(1) + " prefect.flow-run.Pending 2026-01-01T10:00:01.000000+00:00",
              "2 " + state_id(2) + " prefect.flow-run.Running 2026-01-01T10:00:02.000000+00:00",
              "3 " + state_id(2) + "  "});
    CHECK(store.db().execAndGet("PRAGMA integrity_check").getString() == "ok");
    CHECK(count(store, "SELECT count(*) FROM pragma_foreign_key_check") == 0);

    // The (run, timestamp) rule holds as the primary key now.
    State same = make_state(state_id(3), StateType::kCompleted, history[1]->timestamp);
    const auto error = error_of([&] { store.runs().write_state(*run, same); });
    REQUIRE(error);
    CHECK(error->kind() == ErrorKind::kBadData);
    CHECK(std::string(error->what()).find("already has a state at") != std::string::npos);
  }
}

TEST_SUITE("store: schema 005") {
  // A database as schema 004 left it: full state_details texts in the state rows, both signature
  // lists spelled out in every log row, a plain ACCEPT's details written out, and two cache
  // entries under one key. Opening it migrates it: every row is kept, and the log reads back
  // exactly as it was written.
  TEST_CASE("migrating from 004 keeps every row, and the log reads as it was written") {
    TempDir dir;
    const std::string path = dir.file("old.db");
    StateDetails cached;
    cached.cache_key = "k";
    cached.retriable = false;
    State proposal = make_state(state_id(9), StateType::kRunning, at("2026-01-01T10:00:02Z"));
    const std::string plain_accept =
        R"({"type":"accept_details","reason":null,"delay_seconds":null})";
    const std::string reject = R"({"type":"reject_details","reason":"no"})";
    {
      SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      for (const Migration& m : sqlite_migrations())
        if (m.version <= 4) raw.exec(m.sql);
      raw.exec("PRAGMA user_version = 4");
      raw.exec(std::string("INSERT INTO flow_run (id, created, updated, name, state_id, "
                           "state_type, state_name, state_timestamp) VALUES ('") +
               kFlowId +
               "', '2026-01-01T10:00:00.000000+00:00', "
               "'2026-01-01T10:00:00.000000+00:00', 'old', '" +
               state_id(2) + "', 'RUNNING', 'Running', '2026-01-01T10:00:02.000000+00:00')");
      const std::pair<int, const StateDetails*> states[] = {{1, nullptr}, {2, &cached}};
      for (const auto& [n, details] : states) {
        SQLite::Statement st(raw,
                             "INSERT INTO flow_run_state (id, created, flow_run_id, type, name, "
                             "timestamp, state_details) VALUES (?1, ?2, ?3, ?4, ?5, ?2, ?6)");
        st.bind(1, state_id(n));
        st.bind(2, "2026-01-01T10:00:0" + std::to_string(n) + ".000000+00:00");
        st.bind(3, kFlowId);
        st.bind(4, n == 1 ? "PENDING" : "RUNNING");
        st.bind(5, n == 1 ? "Pending" : "Running");
        st.bind(6, state_details_text(details ? *details : StateDetails()));
        st.exec();
      }
      std::string proposal_text;
      append_state_text(proposal_text, proposal);
      const std::pair<std::string, std::string> rows[] = {{"ACCEPT", plain_accept},
                                                          {"REJECT", reject}};
      for (const auto& [status, details] : rows) {
        SQLite::Statement st(raw,
                             "INSERT INTO orchestration_log (run_id, run_kind, at, "
                             "proposed_state, status, details, validated_state_id, "
                             "rule_signature, finalization_signature, duration_us, policy) "
                             "VALUES (?1, 'flow', '2026-01-01T10:00:02.000000+00:00', ?2, ?3, ?4, "
                             "?5, '[\"PreventPendingTransitions\",\"CopyScheduledTime\"]', "
                             "'[\"SetStartTime\"]', 7, 'CoreFlowPolicy')");
        st.bind(1, kFlowId);
        st.bind(2, proposal_text);
        st.bind(3, status);
        st.bind(4, details);
        st.bind(5, state_id(2));
        st.exec();
      }
      for (const char* id : {"c1", "c2"})
        raw.exec(std::string("INSERT INTO task_run_state_cache (id, created, cache_key, "
                             "task_run_state_id) VALUES ('") +
                 id + "', '2026-01-01T10:00:00.000000+00:00', 'key', '" + state_id(2) + "')");
    }

    Store store(path, OpenMode::kCreate);
    CHECK(store.schema_version() == SqliteDatabase::latest_schema_version());
    CHECK(store.db().execAndGet("PRAGMA integrity_check").getString() == "ok");
    CHECK(count(store, "SELECT count(*) FROM pragma_foreign_key_check") == 0);
    CHECK(count(store, "SELECT count(*) FROM flow_run_state") == 2);
    CHECK(count(store, "SELECT count(*) FROM task_run_state_cache") == 2);
    CHECK(count(store, "SELECT count(*) FROM signature") == 2);  // two distinct lists

    const std::optional<Run> run = store.runs().load_run(RunKind::kFlow, kFlowId);
    REQUIRE(run);
    const auto history = store.runs().load_history(*run);
    REQUIRE(history.size() == 2);
    CHECK(state_details_to_json(*history[0]->details) == state_details_to_json(StateDetails()));
    CHECK(state_details_to_json(*history[1]->details) == state_details_to_json(cached));

    const Signature rules(
        std::vector<std::string>{"PreventPendingTransitions", "CopyScheduledTime"});
    const Signature finalization(std::vector<std::string>{"SetStartTime"});
    const Json proposal_json = state_to_json(proposal);
    std::vector<LogEntry> log = store.runs().load_log(kFlowId);
    REQUIRE(log.size() == 2);
    for (const LogEntry& e : log) {
      CHECK(e.proposed_state == proposal_json);
      CHECK(e.rule_signature == rules);
      CHECK(e.finalization_signature == finalization);
      CHECK(e.validated_state_id == state_id(2));
      CHECK(e.duration_us == 7);
    }
    CHECK(log[0].details == Json::parse(plain_accept));
    CHECK(log[1].details == Json::parse(reject));

    // The same entries written now take the lean form and read back the same.
    {
      WriteTransaction tx(store);
      for (LogEntry e : log) {
        e.proposed_state_text = stored_proposal_text(proposal);
        store.runs().insert_log(e);
      }
      tx.commit();
    }
    const std::vector<LogEntry> again = store.runs().load_log(kFlowId);
    REQUIRE(again.size() == 4);
    for (std::size_t i = 0; i < 2; ++i) {
      CAPTURE(i);
      CHECK(again[i + 2].proposed_state == log[i].proposed_state);
      CHECK(again[i + 2].details == log[i].details);
      CHECK(again[i + 2].rule_signature == log[i].rule_signature);
      CHECK(again[i + 2].finalization_signature == log[i].finalization_signature);
    }
    CHECK(count(store, "SELECT count(*) FROM signature") == 2);  // the lists were reused
    CHECK(count(store, "SELECT count(*) FROM orchestration_log WHERE id > 2 AND details IS NULL") ==
          1);
    CHECK(count(store,
                "SELECT count(*) FROM orchestration_log WHERE id > 2 AND "
                "length(proposed_state) < (SELECT length(proposed_state) FROM orchestration_log "
                "WHERE id = 1) / 2") == 2);
  }
}

}  // namespace runctl
