// The store's contract (lib/store/database.hpp, repositories.hpp), checked on every backend the
// build has: a SQLite file always, and PostgreSQL when RUNCTL_TEST_PG names a server (a schema of
// its own per case; scripts/with-postgres.sh starts a throwaway server). Each case runs once per
// backend, as a subcase named after it, and expects the same exact values from each.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/pg_schema.hpp"
#include "store/database.hpp"
#include "unit/error_of.hpp"
#include "util/error.hpp"

namespace runctl {
namespace {

// An empty runctl database on one backend, removed afterwards.
class Scratch {
 public:
  explicit Scratch(const std::string& backend) {
    if (backend == "postgres") {
      schema_ = std::make_unique<clitest::pgtest::TestSchema>(*clitest::pgtest::test_server());
      url_ = schema_->url();
    } else {
      dir_ = make_temp_dir();
      url_ = dir_ + "/contract.db";
    }
    db_ = open_database(url_, OpenMode::kCreate);
  }
  ~Scratch() {
    db_.reset();
    schema_.reset();
    if (!dir_.empty()) remove_tree(dir_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  Database& db() { return *db_; }
  RunRepository& runs() { return db_->runs(); }
  ConcurrencyRepository& limits() { return db_->concurrency(); }
  // A connection of its own to the same database, as another process has.
  std::unique_ptr<Database> connect(int busy_timeout_ms = 5000) const {
    return open_database(url_, OpenMode::kWriteExisting, OpenOptions{busy_timeout_ms});
  }

 private:
  std::string dir_;
  std::unique_ptr<clitest::pgtest::TestSchema> schema_;
  std::string url_;
  std::unique_ptr<Database> db_;
};

std::vector<std::string> backends() {
  std::vector<std::string> out{"sqlite"};
  if (postgres_available() && clitest::pgtest::test_server()) out.push_back("postgres");
  return out;
}

// Runs `body` on a fresh database of each backend but `except`, each in its own subcase.
template <typename Body>
void on_every_backend(Body body, const std::string& except = "") {
  for (const std::string& backend : backends()) {
    if (backend == except) continue;
    SUBCASE(backend.c_str()) {
      Scratch scratch(backend);
      body(scratch);
    }
  }
}

// A contract a backend is known to break runs on it in a case of its own, marked may_fail: every
// run prints the failing checks without failing the suite, while the other backends stay strict.
// Remove the split once the backend is fixed.
template <typename Body>
void on_backend_with_known_gap(const std::string& backend, Body body) {
  const std::vector<std::string> all = backends();
  if (std::find(all.begin(), all.end(), backend) == all.end()) return;
  Scratch scratch(backend);
  body(scratch);
}

constexpr Timestamp kT0 = 1'767'268'800LL * kMicrosPerSecond;  // 2026-01-01T12:00:00Z
constexpr Timestamp kSec = kMicrosPerSecond;

const std::string kFlow = "11111111-1111-4111-8111-111111111111";
const std::string kTask = "22222222-2222-4222-8222-222222222222";

Run new_run(RunKind kind, const std::string& id) {
  Run r;
  r.kind = kind;
  r.id = id;
  r.name = "run-" + id.substr(0, 8);
  r.created = kT0;
  return r;
}

State new_state(const std::string& id, StateType type, Timestamp at) {
  State s;
  s.id = id;
  s.type = type;
  s.name = "name of " + id;
  s.timestamp = at;
  return s;
}

// Every column of a run as JSON: two runs are stored alike iff these are equal, and a failing
// check shows the whole row.
Json columns(const Run& r) {
  auto opt = [](const auto& v) { return v ? Json(*v) : Json(); };
  return Json{{"kind", kind_name(r.kind)},
              {"id", r.id},
              {"name", r.name},
              {"state_id", opt(r.state_id)},
              {"state_type", r.state_type ? Json(type_name(*r.state_type)) : Json()},
              {"state_name", opt(r.state_name)},
              {"state_timestamp", opt(r.state_timestamp)},
              {"run_count", r.run_count},
              {"expected_start_time", opt(r.expected_start_time)},
              {"next_scheduled_start_time", opt(r.next_scheduled_start_time)},
              {"start_time", opt(r.start_time)},
              {"end_time", opt(r.end_time)},
              {"total_run_time_us", r.total_run_time_us},
              {"empirical_policy", r.empirical_policy},
              {"tags", r.tags},
              {"created", r.created},
              {"flow_id", opt(r.flow_id)},
              {"deployment_id", opt(r.deployment_id)},
              {"parent_task_run_id", opt(r.parent_task_run_id)},
              {"infrastructure_pid", opt(r.infrastructure_pid)},
              {"work_queue_id", opt(r.work_queue_id)},
              {"flow_run_id", opt(r.flow_run_id)},
              {"flow_run_run_count", r.flow_run_run_count},
              {"task_key", opt(r.task_key)},
              {"dynamic_key", r.dynamic_key}};
}

// A run with every column away from its default.
Run full_run(RunKind kind, const std::string& id) {
  Run r = new_run(kind, id);
  r.state_id = "s-current";
  r.state_type = StateType::kRunning;
  r.state_name = "Running";
  r.state_timestamp = kT0 + 5 * kSec + 123'456;
  r.run_count = 3;
  r.expected_start_time = kT0 - 60 * kSec;
  r.next_scheduled_start_time = kT0 + 1800 * kSec;
  r.start_time = kT0 + 1;
  r.end_time = kT0 + 600 * kSec;
  r.total_run_time_us = 4'500'000;
  r.empirical_policy = Json{{"retries", 2}, {"retry_delay", 10}, {"resuming", false}};
  r.tags = {"prod", "etl", "ünïcode"};
  if (kind == RunKind::kFlow) {
    r.flow_id = "flow-1";
    r.deployment_id = "deployment-1";
    r.parent_task_run_id = "parent-task";
    r.infrastructure_pid = "pid-42";
    r.work_queue_id = "queue-1";
  } else {
    r.flow_run_id = kFlow;
    r.flow_run_run_count = 2;
    r.task_key = "my_task-abc";
    r.dynamic_key = "7";
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Runs

TEST_CASE("contract: runs are inserted, found by id and kind, counted, and read back whole") {
  on_every_backend([](Scratch& s) {
    const Run flow = full_run(RunKind::kFlow, kFlow);
    const Run task = full_run(RunKind::kTask, kTask);
    s.runs().insert_run(flow);
    s.runs().insert_run(task);
    CHECK(columns(s.runs().load_run(RunKind::kFlow, kFlow).value()) == columns(flow));
    CHECK(columns(s.runs().load_run(RunKind::kTask, kTask).value()) == columns(task));
    CHECK_FALSE(s.runs().load_run(RunKind::kTask, kFlow));  // the other kind has no such run
    CHECK(s.runs().find_run_kind(kFlow) == RunKind::kFlow);
    CHECK(s.runs().find_run_kind(kTask) == RunKind::kTask);
    CHECK_FALSE(s.runs().find_run_kind("nobody"));
    CHECK(s.runs().find_run(kTask).value().kind == RunKind::kTask);
    CHECK(s.runs().count_runs(RunKind::kFlow) == 1);
    CHECK(s.runs().count_runs(RunKind::kTask) == 1);
  });
}

TEST_CASE("contract: match_runs finds runs by id prefix or exact name, by id, with the total") {
  on_every_backend([](Scratch& s) {
    // 'abcd' ids around the prefix's bounds: 'abcc...' and 'abce...' are not in [abcd, abcd~).
    for (const char* id :
         {"abcd0003-0000-4000-8000-000000000000", "abcd0001-0000-4000-8000-000000000000",
          "abcd0002-0000-4000-8000-000000000000", "abccffff-ffff-4fff-8fff-ffffffffffff",
          "abce0000-0000-4000-8000-000000000000"}) {
      Run r = new_run(RunKind::kFlow, id);
      r.name = "same";
      s.runs().insert_run(r);
    }
    s.runs().insert_run(new_run(RunKind::kTask, "abcd9999-0000-4000-8000-000000000000"));
    const RefQuery prefix{RefQuery::By::kIdPrefix, "abcd"};
    const RefMatches two = s.runs().match_runs(RunKind::kFlow, prefix, 2);
    REQUIRE(two.first.size() == 2);
    CHECK(two.first[0].id == "abcd0001-0000-4000-8000-000000000000");
    CHECK(two.first[1].id == "abcd0002-0000-4000-8000-000000000000");
    CHECK(two.first[0].name == "same");
    CHECK(two.total == 3);  // counted: the list was cut short
    CHECK(s.runs().match_runs(RunKind::kFlow, prefix, 10).total == 3);
    const RefMatches task = s.runs().match_runs(RunKind::kTask, prefix, 10);
    REQUIRE(task.total == 1);
    CHECK(task.first[0].kind == RunKind::kTask);
    const RefQuery dashed{RefQuery::By::kIdPrefix, "abcd0002-0"};
    CHECK(s.runs().match_runs(RunKind::kFlow, dashed, 10).total == 1);
    const RefQuery name{RefQuery::By::kName, "same"};
    CHECK(s.runs().match_runs(RunKind::kFlow, name, 3).total == 5);
    CHECK(s.runs().match_runs(RunKind::kFlow, {RefQuery::By::kName, "SAME"}, 3).total == 0);
    CHECK(s.runs().match_runs(RunKind::kFlow, {RefQuery::By::kIdPrefix, "ffff"}, 3).total == 0);
  });
}

TEST_CASE("contract: inserting a run whose id is taken is kBadData") {
  on_every_backend([](Scratch& s) {
    s.runs().insert_run(new_run(RunKind::kFlow, kFlow));
    s.runs().insert_run(new_run(RunKind::kTask, kTask));
    for (const auto& run : {std::pair{RunKind::kFlow, kFlow}, {RunKind::kTask, kTask}}) {
      const RunKind kind = run.first;  // not a structured binding: clang 14 cannot capture one
      const std::string& id = run.second;
      const auto taken = error_of([&] { s.runs().insert_run(new_run(kind, id)); });
      REQUIRE(taken);
      CHECK(taken->kind() == ErrorKind::kBadData);
      CHECK(std::string(taken->what()) == "a run with id " + id + " already exists");
      CHECK(s.runs().count_runs(kind) == 1);
    }
    // Inside a transaction the refusal leaves it open, with what it wrote before.
    WriteTransaction tx(s.db());
    s.runs().insert_run(new_run(RunKind::kFlow, "33333333-3333-4333-8333-333333333333"));
    CHECK(error_of([&] { s.runs().insert_run(new_run(RunKind::kFlow, kFlow)); }));
    tx.commit();
    CHECK(s.runs().count_runs(RunKind::kFlow) == 2);
  });
}

TEST_CASE("contract: update_run writes what a transition changes, kAll the identity too") {
  on_every_backend([](Scratch& s) {
    for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
      const Run inserted = full_run(kind, kind == RunKind::kFlow ? kFlow : kTask);
      s.runs().insert_run(inserted);
      // Every column at its default: the orchestration columns are cleared, not kept ...
      Run plain = new_run(kind, inserted.id);
      plain.name = "renamed";
      s.runs().update_run(plain);
      // ... and the identity the run was inserted with stays.
      Json expected = columns(inserted);
      for (const char* key :
           {"state_id", "state_type", "state_name", "state_timestamp", "run_count",
            "expected_start_time", "next_scheduled_start_time", "start_time", "end_time",
            "total_run_time_us", "empirical_policy", "flow_run_run_count"})
        expected[key] = columns(plain)[key];
      CHECK(columns(s.runs().load_run(kind, inserted.id).value()) == expected);
      // Written back, every orchestration column returns.
      s.runs().update_run(inserted);
      CHECK(columns(s.runs().load_run(kind, inserted.id).value()) == columns(inserted));
      // kAll writes the identity too.
      s.runs().update_run(plain, RunColumns::kAll);
      CHECK(columns(s.runs().load_run(kind, inserted.id).value()) == columns(plain));
    }
    const auto missing = error_of([&] { s.runs().update_run(new_run(RunKind::kFlow, "nobody")); });
    REQUIRE(missing);
    CHECK(missing->kind() == ErrorKind::kNotFound);
  });
}

// ---------------------------------------------------------------------------------------------
// States

TEST_CASE("contract: history is by timestamp, a taken timestamp is kStateTimestampTaken") {
  on_every_backend([](Scratch& s) {
    const Run flow = new_run(RunKind::kFlow, kFlow);
    s.runs().insert_run(flow);
    // Written out of order: history is read in timestamp order, not insertion order.
    for (auto [id, at] : {std::pair{"s2", kT0 + 2}, {"s1", kT0 + 1}, {"s3", kT0 + 3}}) {
      State st = new_state(id, StateType::kRunning, at);
      s.runs().write_state(flow, st);
    }
    std::vector<std::string> ids;
    for (const StatePtr& st : s.runs().load_history(flow)) ids.push_back(st->id);
    CHECK(ids == std::vector<std::string>{"s1", "s2", "s3"});

    State again = new_state("s4", StateType::kCompleted, kT0 + 2);
    const auto taken = error_of([&] { s.runs().write_state(flow, again); });
    REQUIRE(taken);
    CHECK(taken->kind() == ErrorKind::kBadData);
    CHECK(taken->reason() == ErrorReason::kStateTimestampTaken);
    CHECK(s.runs().load_history(flow).size() == 3);
    CHECK(s.runs().flow_state_timestamp_taken(kFlow, kT0 + 2));
    CHECK_FALSE(s.runs().flow_state_timestamp_taken(kFlow, kT0 + 4));
    CHECK_FALSE(s.runs().flow_state_timestamp_taken("other", kT0 + 2));

    // Another run may have a state at the same time.
    const Run task = new_run(RunKind::kTask, kTask);
    s.runs().insert_run(task);
    State same_time = new_state("s5", StateType::kPending, kT0 + 2);
    s.runs().write_state(task, same_time);
    REQUIRE(s.runs().load_history(task).size() == 1);
    CHECK(s.runs().load_history(task)[0]->timestamp == kT0 + 2);
  });
}

TEST_CASE("contract: a state is read back whole, its data as its result artifact") {
  on_every_backend([](Scratch& s) {
    Run task = new_run(RunKind::kTask, kTask);
    s.runs().insert_run(task);
    CHECK_FALSE(s.runs().load_current_state(task));  // no state yet

    State st = new_state("s1", StateType::kCompleted, kT0 + 7);
    st.message = "all good";
    st.details->cache_key = "key";
    st.details->cache_expiration = kT0 + 3600 * kSec;
    st.details->task_run_id = kTask;
    st.data = std::make_shared<Json>(Json{{"storage_key", "s3://results/1"},
                                          {"artifact_key", "report"},
                                          {"artifact_description", "the report"}});
    s.runs().write_state(task, st);
    // Prefect moves the artifact_* keys into the artifact row: they leave the data in place.
    CHECK(*st.data == Json{{"storage_key", "s3://results/1"}});

    task.state_id = st.id;
    s.runs().update_run(task);
    const StatePtr current = s.runs().load_current_state(task);
    REQUIRE(current);
    CHECK(current->id == "s1");
    CHECK(current->type == StateType::kCompleted);
    CHECK(current->name == "name of s1");
    CHECK(current->timestamp == kT0 + 7);
    CHECK(current->message == "all good");
    CHECK(*current->details == *st.details);
    REQUIRE(current->data);
    CHECK(*current->data == Json{{"storage_key", "s3://results/1"}});

    State bare = new_state("s2", StateType::kRunning, kT0 + 8);
    s.runs().write_state(task, bare);
    const auto history = s.runs().load_history(task);
    REQUIRE(history.size() == 2);
    CHECK_FALSE(history[1]->data);
    CHECK_FALSE(history[1]->message);
  });
}

TEST_CASE("contract: failed_task_runs names the flow's task runs whose state is FAILED, by id") {
  on_every_backend([](Scratch& s) {
    s.runs().insert_run(new_run(RunKind::kFlow, kFlow));
    s.runs().insert_run(new_run(RunKind::kFlow, "other-flow"));
    auto task = [&](const std::string& id, const std::string& flow, StateType type) {
      Run r = new_run(RunKind::kTask, id);
      r.flow_run_id = flow;
      r.state_type = type;
      s.runs().insert_run(r);
    };
    task("task-c", kFlow, StateType::kFailed);
    task("task-a", kFlow, StateType::kFailed);
    task("task-b", kFlow, StateType::kCompleted);
    task("task-d", "other-flow", StateType::kFailed);
    CHECK(s.runs().failed_task_runs(kFlow) == std::vector<std::string>{"task-a", "task-c"});
    CHECK(s.runs().failed_task_runs("no-flow").empty());
  });
}

// ---------------------------------------------------------------------------------------------
// Log and events

LogEntry log_entry(const std::string& run_id, Timestamp at, const std::string& status) {
  LogEntry e;
  e.run_id = run_id;
  e.at = at;
  e.status = status;
  e.details = Json{{"type", "accept_details"}, {"reason", nullptr}, {"delay_seconds", nullptr}};
  e.policy = "CoreFlowPolicy";
  return e;
}

TEST_CASE("contract: log rows get increasing ids and come back per run, oldest first") {
  on_every_backend([](Scratch& s) {
    LogEntry accepted = log_entry(kFlow, kT0 + 1, "ACCEPT");
    accepted.initial_type = StateType::kPending;
    accepted.proposed_state = Json{{"type", "RUNNING"}, {"name", "Running"}};
    accepted.validated_state_id = "s1";
    accepted.rule_signature = Signature(std::vector<std::string>{"CopyScheduledTime", "A rule"});
    accepted.finalization_signature = Signature(std::vector<std::string>{"SetStartTime"});
    accepted.duration_us = 1234;

    LogEntry failed = log_entry(kFlow, kT0 + 2, "ABORT");
    failed.proposed_state_text = R"({"type":"COMPLETED","name":"Done"})";
    failed.error = "boom";
    failed.forced = true;
    failed.policy = "my policy.json";

    LogEntry task = log_entry(kTask, kT0 + 3, "REJECT");
    task.run_kind = RunKind::kTask;

    const std::int64_t first = s.runs().insert_log(accepted);
    const std::int64_t second = s.runs().insert_log(task);
    const std::int64_t third = s.runs().insert_log(failed);
    CHECK(first < second);
    CHECK(second < third);

    const std::vector<LogEntry> log = s.runs().load_log(kFlow);
    REQUIRE(log.size() == 2);
    const LogEntry& a = log[0];
    CHECK(a.id == first);
    CHECK(a.run_kind == RunKind::kFlow);
    CHECK(a.at == kT0 + 1);
    CHECK(a.initial_type == StateType::kPending);
    CHECK(a.proposed_state == accepted.proposed_state);
    CHECK(a.status == "ACCEPT");
    CHECK(a.details == accepted.details);
    CHECK(a.validated_state_id == "s1");
    CHECK(a.rule_signature == std::vector<std::string>{"CopyScheduledTime", "A rule"});
    CHECK(a.finalization_signature == std::vector<std::string>{"SetStartTime"});
    CHECK_FALSE(a.error);
    CHECK(a.duration_us == 1234);
    CHECK(a.policy == "CoreFlowPolicy");
    CHECK_FALSE(a.forced);
    const LogEntry& b = log[1];
    CHECK(b.id == third);
    CHECK(b.proposed_state == Json{{"type", "COMPLETED"}, {"name", "Done"}});  // from the text
    CHECK_FALSE(b.initial_type);
    CHECK_FALSE(b.validated_state_id);
    CHECK(b.rule_signature.empty());
    CHECK(b.error == "boom");
    CHECK(b.forced);
    CHECK(b.policy == "my policy.json");

    const std::vector<LogEntry> task_log = s.runs().load_log(kTask);
    REQUIRE(task_log.size() == 1);
    CHECK(task_log[0].run_kind == RunKind::kTask);
    CHECK(task_log[0].status == "REJECT");
    CHECK(s.runs().load_log("nobody").empty());
  });
}

TEST_CASE("contract: events are stored with their log rows and listed after a seq") {
  on_every_backend([](Scratch& s) {
    std::vector<std::string> written;
    for (int i = 0; i < 5; ++i) {
      LogEntry entry = log_entry(i % 2 ? "run-b" : "run-a", kT0 + i, "ACCEPT");
      if (i != 2) {  // a log row without an event lists nothing
        entry.validated_state_id = "state-" + std::to_string(i);
        Event e;
        e.occurred = kT0 + i;
        e.event = "prefect.flow-run.Running";
        e.resource_id = "prefect.flow-run." + entry.run_id;
        e.resource = Json{{"prefect.resource.id", e.resource_id}}.dump();
        e.related = R"([{"prefect.resource.role":"flow"}])";
        e.payload = R"({"intended":{"to":"RUNNING"}})";
        if (i == 4) e.follows = "state-3";
        entry.event = e;
        written.push_back(*entry.validated_state_id);
      }
      s.runs().insert_log(entry);
    }
    CHECK_FALSE(s.runs().load_log("run-a").front().event);  // load_log leaves events out

    const std::vector<Event> all = s.limits().list_events(std::nullopt);
    std::vector<std::string> ids;
    for (const Event& e : all) ids.push_back(e.id);
    CHECK(ids == written);
    for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].seq < all[i].seq);
    const Event& last = all.back();
    CHECK(last.occurred == kT0 + 4);
    CHECK(last.event == "prefect.flow-run.Running");
    CHECK(last.resource_id == "prefect.flow-run.run-a");
    CHECK(last.resource == R"({"prefect.resource.id":"prefect.flow-run.run-a"})");
    CHECK(last.related == R"([{"prefect.resource.role":"flow"}])");
    CHECK(last.payload == R"({"intended":{"to":"RUNNING"}})");
    CHECK(last.follows == "state-3");
    CHECK_FALSE(all.front().follows);

    const auto of_b = s.limits().list_events(std::string("prefect.flow-run.run-b"));
    REQUIRE(of_b.size() == 2);
    CHECK(of_b[0].id == "state-1");
    CHECK(of_b[1].id == "state-3");
    const auto page = s.limits().list_events(std::nullopt, all[1].seq, 2);
    REQUIRE(page.size() == 2);
    CHECK(page[0].id == "state-3");
    CHECK(page[1].id == "state-4");
    CHECK(s.limits().list_events(std::nullopt, all.back().seq).empty());
  });
}

// ---------------------------------------------------------------------------------------------
// Cache and task queue

TEST_CASE("contract: the cache answers with the newest entry not expired, or nothing") {
  on_every_backend([](Scratch& s) {
    const Run task = new_run(RunKind::kTask, kTask);
    s.runs().insert_run(task);
    for (auto [id, at] : {std::pair{"old", kT0}, {"new", kT0 + 1}}) {
      State st = new_state(id, StateType::kCompleted, at);
      s.runs().write_state(task, st);
    }
    s.runs().insert_cache_entry("c1", "k", std::nullopt, "old", kT0);
    s.runs().insert_cache_entry("c2", "k", kT0 + 100 * kSec, "new", kT0 + kSec);
    CHECK(s.runs().find_cached_state("k", kT0 + 99 * kSec)->id == "new");
    // Expired at its expiration, not after it: the older entry, which never expires, answers.
    CHECK(s.runs().find_cached_state("k", kT0 + 100 * kSec)->id == "old");
    CHECK_FALSE(s.runs().find_cached_state("other key", kT0));

    // The newest entry's state row is gone: a miss, not the entry before it.
    s.runs().insert_cache_entry("c5", "k", std::nullopt, "no-such-state", kT0 + 2 * kSec);
    CHECK_FALSE(s.runs().find_cached_state("k", kT0 + 3 * kSec));
  });
}

void cache_tie_goes_to_later_insert(Scratch& s) {
  const Run task = new_run(RunKind::kTask, kTask);
  s.runs().insert_run(task);
  for (auto [id, at] : {std::pair{"first", kT0}, {"second", kT0 + 1}}) {
    State st = new_state(id, StateType::kCompleted, at);
    s.runs().write_state(task, st);
  }
  // Entry ids rising with the inserts for one key and falling for the other: a tie broken by id
  // picks the earlier insert for one of them.
  s.runs().insert_cache_entry("x1", "x", std::nullopt, "first", kT0);
  s.runs().insert_cache_entry("x2", "x", std::nullopt, "second", kT0);
  s.runs().insert_cache_entry("y2", "y", std::nullopt, "first", kT0);
  s.runs().insert_cache_entry("y1", "y", std::nullopt, "second", kT0);
  CHECK(s.runs().find_cached_state("x", kT0)->id == "second");
  CHECK(s.runs().find_cached_state("y", kT0)->id == "second");
}

TEST_CASE("contract: of cache entries created at the same time, the later insert wins") {
  on_every_backend(cache_tie_goes_to_later_insert);
}

TEST_CASE("contract: the task queue lists in enqueue order, by task key when asked") {
  on_every_backend([](Scratch& s) {
    Run a = new_run(RunKind::kTask, "task-a");
    a.task_key = "key-2";
    Run b = new_run(RunKind::kTask, "task-b");
    b.task_key = "key-1";
    s.runs().insert_run(a);
    s.runs().insert_run(b);
    s.runs().enqueue_task_run("q3", a, "scheduled", kT0);
    s.runs().enqueue_task_run("q1", b, "retry", kT0 + 1);
    s.runs().enqueue_task_run("q2", a, "retry", kT0 + 2);
    std::vector<std::string> order;
    for (const QueuedTask& q : s.runs().list_task_queue(std::nullopt)) order.push_back(q.id);
    CHECK(order == std::vector<std::string>{"q3", "q1", "q2"});
    const auto of_a = s.runs().list_task_queue(std::string("key-2"));
    REQUIRE(of_a.size() == 2);
    CHECK(of_a[0].id == "q3");
    CHECK(of_a[0].task_key == "key-2");
    CHECK(of_a[0].queue == "scheduled");
    CHECK(of_a[0].task_run_id == "task-a");
    CHECK(of_a[0].enqueued_at == kT0);
    CHECK(of_a[1].queue == "retry");
    CHECK(s.runs().list_task_queue(std::string("key-3")).empty());
  });
}

// ---------------------------------------------------------------------------------------------
// Transactions and locks

TEST_CASE("contract: an uncommitted WriteTransaction rolls back when destroyed or asked") {
  on_every_backend([](Scratch& s) {
    {
      WriteTransaction tx(s.db());
      s.runs().insert_run(new_run(RunKind::kFlow, kFlow));
      CHECK(s.runs().find_run_kind(kFlow) == RunKind::kFlow);  // its own writes are visible
    }
    CHECK_FALSE(s.db().in_transaction());
    CHECK_FALSE(s.runs().find_run_kind(kFlow));
    {
      WriteTransaction tx(s.db());
      s.runs().insert_run(new_run(RunKind::kFlow, kFlow));
      tx.rollback();
    }
    CHECK_FALSE(s.runs().find_run_kind(kFlow));
    {
      WriteTransaction tx(s.db());
      s.runs().insert_run(new_run(RunKind::kFlow, kFlow));
      {
        Database::Savepoint group(s.db());
        s.runs().insert_run(new_run(RunKind::kTask, kTask));
        group.rollback();  // undoes the group alone
      }
      tx.commit();
    }
    CHECK(s.runs().find_run_kind(kFlow) == RunKind::kFlow);
    CHECK_FALSE(s.runs().find_run_kind(kTask));
  });
}

TEST_CASE("contract: another connection sees committed writes only") {
  on_every_backend([](Scratch& s) {
    const std::unique_ptr<Database> other = s.connect();
    WriteTransaction tx(s.db());
    s.runs().insert_run(new_run(RunKind::kFlow, kFlow));
    CHECK_FALSE(other->runs().find_run_kind(kFlow));
    tx.commit();
    CHECK(other->runs().find_run_kind(kFlow) == RunKind::kFlow);
  });
}

TEST_CASE("contract: a run loaded for update stays locked to other writers until commit") {
  on_every_backend([](Scratch& s) {
    s.runs().insert_run(new_run(RunKind::kFlow, kFlow));
    const std::unique_ptr<Database> other = s.connect(/*busy_timeout_ms=*/50);
    auto lock_from_other = [&] {
      WriteTransaction tx(*other);
      const bool found =
          other->runs().load_run(RunKind::kFlow, kFlow, RowLock::kForUpdate).has_value();
      tx.commit();
      return found;
    };
    {
      WriteTransaction tx(s.db());
      REQUIRE(s.runs().load_run(RunKind::kFlow, kFlow, RowLock::kForUpdate));
      const auto busy = error_of(lock_from_other);
      REQUIRE(busy);
      CHECK(busy->kind() == ErrorKind::kBusy);
      tx.commit();
    }
    bool found = false;
    CHECK_FALSE(error_of([&] { found = lock_from_other(); }));
    CHECK(found);
  });
}

// ---------------------------------------------------------------------------------------------
// Concurrency limits

V2Limit v2_limit(const std::string& id, std::int64_t limit, std::int64_t active = 0) {
  V2Limit l;
  l.id = id;
  l.name = "tag:" + id;
  l.limit = limit;
  l.active_slots = active;
  l.created = l.updated = kT0;
  return l;
}

TEST_CASE("contract: V1 limits are upserted by tag and hold a sorted set of slots") {
  on_every_backend([](Scratch& s) {
    const V1Limit first = s.limits().upsert_v1_limit("v1-a", "db", 2, kT0);
    CHECK(first.id == "v1-a");
    CHECK(first.limit == 2);
    CHECK(first.active_slots.empty());
    CHECK(s.limits().set_v1_active_slots("db", {"run-2", "run-1", "run-2"}, kT0 + 1));
    const V1Limit again = s.limits().upsert_v1_limit("v1-b", "db", 5, kT0 + 2);
    CHECK(again.id == "v1-a");
    CHECK(again.limit == 5);
    CHECK(again.active_slots == std::vector<std::string>{"run-1", "run-2"});
    s.limits().upsert_v1_limit("v1-c", "api", 1, kT0);
    std::vector<std::string> tags;
    for (const V1Limit& l : s.limits().list_v1_limits()) tags.push_back(l.tag);
    CHECK(tags == std::vector<std::string>{"api", "db"});
    const auto some = s.limits().v1_limits_for_tags({"db", "none", "api"});
    REQUIRE(some.size() == 2);
    CHECK(some[0].tag == "api");
    CHECK(some[1].active_slots.size() == 2);
    CHECK_FALSE(s.limits().set_v1_active_slots("none", {"run-1"}, kT0));
    CHECK(s.limits().delete_v1_limit("db"));
    CHECK_FALSE(s.limits().delete_v1_limit("db"));
    CHECK_FALSE(s.limits().v1_limit_by_tag("db"));
    CHECK(s.limits().v1_limit_by_tag("api").value().id == "v1-c");
  });
}

TEST_CASE("contract: V2 limits by id and name, increments all or nothing, decrements clamped") {
  on_every_backend([](Scratch& s) {
    s.limits().insert_v2_limit(v2_limit("b", 1, 1));
    s.limits().insert_v2_limit(v2_limit("a", 2));
    V2Limit off = v2_limit("off", 5);
    off.active = false;
    s.limits().insert_v2_limit(off);
    V2Limit clash = v2_limit("c", 1);
    clash.name = "tag:a";
    const auto taken = error_of([&] { s.limits().insert_v2_limit(clash); });
    REQUIRE(taken);
    CHECK(taken->kind() == ErrorKind::kBadData);
    std::vector<std::string> names;
    for (const V2Limit& l : s.limits().list_v2_limits()) names.push_back(l.name);
    CHECK(names == std::vector<std::string>{"tag:a", "tag:b", "tag:off"});
    const auto by_names = s.limits().v2_limits_by_names({"tag:off", "tag:none", "tag:a"});
    REQUIRE(by_names.size() == 2);
    CHECK(by_names[0].id == "a");
    CHECK(s.limits().v2_limit_by_name("tag:b").value().id == "b");

    {
      // In a transaction, as a transition takes slots (outside one: the case below).
      WriteTransaction tx(s.db());
      CHECK_FALSE(s.limits().increment({"a", "b"}, 1, kT0));  // b is full: a is not taken either
      CHECK(s.limits().v2_limit_by_id("a")->active_slots == 0);
      CHECK(s.db().in_transaction());  // a refusal leaves the transaction open
      tx.commit();
    }
    CHECK_FALSE(s.limits().increment({"off"}, 1, kT0));
    CHECK_FALSE(s.limits().increment({"missing"}, 1, kT0));
    CHECK(s.limits().increment({"a"}, 2, kT0));
    CHECK_FALSE(s.limits().increment({"a"}, 1, kT0));
    CHECK(s.limits().v2_limit_by_id("a")->active_slots == 2);
    CHECK(s.limits().decrement({"a", "b"}, 5, kT0));
    CHECK(s.limits().v2_limit_by_id("a")->active_slots == 0);
    CHECK(s.limits().v2_limit_by_id("b")->active_slots == 0);
    CHECK_FALSE(s.limits().decrement({"a", "off"}, 1, kT0));  // not every id an active limit

    V2Limit changed = *s.limits().v2_limit_by_id("a");
    changed.limit = 7;
    changed.active = false;
    CHECK(s.limits().update_v2_limit(changed));
    CHECK(s.limits().v2_limit_by_id("a")->limit == 7);
    CHECK_FALSE(s.limits().v2_limit_by_id("a")->active);
    changed.name = "tag:b";
    const auto clash_update = error_of([&] { s.limits().update_v2_limit(changed); });
    REQUIRE(clash_update);
    CHECK(clash_update->kind() == ErrorKind::kBadData);
    CHECK_FALSE(s.limits().update_v2_limit(v2_limit("missing", 1)));
    CHECK(s.limits().delete_v2_limit("a"));
    CHECK_FALSE(s.limits().delete_v2_limit("a"));
  });
}

TEST_CASE("contract: slots decay from the limit's last update") {
  on_every_backend([](Scratch& s) {
    V2Limit l = v2_limit("d", 3, 3);
    l.slot_decay_per_second = 0.5;
    s.limits().insert_v2_limit(l);
    CHECK_FALSE(s.limits().increment({"d"}, 1, kT0 + kSec));  // floor(0.5) = 0 decayed
    CHECK(s.limits().increment({"d"}, 1, kT0 + 5 * kSec));    // floor(2.5) = 2: 3 - 2 + 1
    const V2Limit after = *s.limits().v2_limit_by_id("d");
    CHECK(after.active_slots == 2);
    CHECK(after.updated == kT0 + 5 * kSec);
  });
}

// Many connections at once, each as another process: shared counters never overcommit.
TEST_CASE("contract: slots raced by 8 connections are never overcommitted") {
  on_every_backend([](Scratch& s) {
    constexpr int kRacers = 8;
    s.limits().insert_v2_limit(v2_limit("shared", 3));
    s.limits().upsert_v1_limit("v1", "tag", 3, kT0);
    std::vector<std::unique_ptr<Database>> dbs;
    for (int i = 0; i < kRacers; ++i) dbs.push_back(s.connect(/*busy_timeout_ms=*/30000));
    std::atomic<int> v2_taken{0}, v1_taken{0};
    std::mutex mutex;
    std::vector<std::string> failures;  // doctest's checks stay on the test's own thread
    std::vector<std::thread> racers;
    for (int i = 0; i < kRacers; ++i)
      racers.emplace_back([&, i] {
        try {
          // In a transaction each, as transitions race (outside one: the case below).
          Database& db = *dbs[static_cast<std::size_t>(i)];
          WriteTransaction tx(db);
          if (db.concurrency().increment({"shared"}, 1, kT0)) ++v2_taken;
          // The V1 read-compute-write: the locking read keeps the row until commit.
          std::vector<std::string> slots =
              db.concurrency().v1_limits_for_tags({"tag"}).at(0).active_slots;
          if (slots.size() < 3) {
            slots.push_back("run-" + std::to_string(i));
            db.concurrency().set_v1_active_slots("tag", slots, kT0);
            ++v1_taken;
          }
          tx.commit();
        } catch (const std::exception& e) {
          const std::lock_guard<std::mutex> lock(mutex);
          failures.push_back(e.what());
        }
      });
    for (std::thread& t : racers) t.join();
    CHECK(failures == std::vector<std::string>{});
    CHECK(v2_taken.load() == 3);
    CHECK(s.limits().v2_limit_by_id("shared")->active_slots == 3);
    CHECK(v1_taken.load() == 3);
    CHECK(s.limits().v1_limit_by_tag("tag")->active_slots.size() == 3);
  });
}

// Outside a transaction each slot operation runs in one of its own (repositories.hpp): all or
// nothing, never over the limit, no update lost, and no transaction left open.
TEST_CASE("contract: increment and decrement outside a transaction are atomic on their own") {
  on_every_backend([](Scratch& s) {
    s.limits().insert_v2_limit(v2_limit("a", 2));
    s.limits().insert_v2_limit(v2_limit("b", 1, 1));
    s.limits().insert_v2_limit(v2_limit("c", 5));
    const auto refused = error_of([&] { CHECK_FALSE(s.limits().increment({"a", "b"}, 1, kT0)); });
    CHECK_FALSE(refused);
    CHECK_FALSE(s.db().in_transaction());
    CHECK(s.limits().v2_limit_by_id("a")->active_slots == 0);  // b is full: a is not taken
    CHECK(s.limits().increment({"c", "a"}, 2, kT0));
    CHECK_FALSE(s.db().in_transaction());
    CHECK(s.limits().v2_limit_by_id("a")->active_slots == 2);
    CHECK(s.limits().v2_limit_by_id("c")->active_slots == 2);
    CHECK(s.limits().decrement({"a", "c", "b"}, 1, kT0));
    CHECK_FALSE(s.db().in_transaction());
    CHECK(s.limits().v2_limit_by_id("a")->active_slots == 1);
    CHECK(s.limits().v2_limit_by_id("b")->active_slots == 0);
    CHECK(s.limits().v2_limit_by_id("c")->active_slots == 1);
    CHECK_FALSE(s.limits().decrement({"a", "missing"}, 1, kT0));  // a is still decremented
    CHECK(s.limits().v2_limit_by_id("a")->active_slots == 0);

    // 8 connections, each as another process, race increments of two limits, one with room for 3,
    // and decrements of two others: a refused increment takes neither, and a lost update would
    // leave more than 8 slots on a decremented limit.
    constexpr int kRacers = 8;
    s.limits().insert_v2_limit(v2_limit("shared", 3));
    s.limits().insert_v2_limit(v2_limit("ample", 100));
    for (const char* id : {"drained", "drained-too"})
      s.limits().insert_v2_limit(v2_limit(id, 3 * kRacers, 2 * kRacers));
    std::vector<std::unique_ptr<Database>> dbs;
    for (int i = 0; i < kRacers; ++i) dbs.push_back(s.connect(/*busy_timeout_ms=*/30000));
    std::atomic<int> taken{0}, freed{0};
    std::mutex mutex;
    std::vector<std::string> failures;  // doctest's checks stay on the test's own thread
    std::vector<std::thread> racers;
    for (int i = 0; i < kRacers; ++i)
      racers.emplace_back([&, i] {
        try {
          ConcurrencyRepository& limits = dbs[static_cast<std::size_t>(i)]->concurrency();
          if (limits.increment({"ample", "shared"}, 1, kT0)) ++taken;
          if (limits.decrement({"drained", "drained-too"}, 1, kT0)) ++freed;
        } catch (const std::exception& e) {
          const std::lock_guard<std::mutex> lock(mutex);
          failures.push_back(e.what());
        }
      });
    for (std::thread& t : racers) t.join();
    CHECK(failures == std::vector<std::string>{});
    CHECK(taken.load() == 3);
    CHECK(freed.load() == kRacers);
    CHECK(s.limits().v2_limit_by_id("shared")->active_slots == 3);
    CHECK(s.limits().v2_limit_by_id("ample")->active_slots == 3);
    CHECK(s.limits().v2_limit_by_id("drained")->active_slots == kRacers);
    CHECK(s.limits().v2_limit_by_id("drained-too")->active_slots == kRacers);
    for (const auto& db : dbs) CHECK_FALSE(db->in_transaction());
  });
}

// ---------------------------------------------------------------------------------------------
// Flows, deployments, leases

TEST_CASE("contract: flows by name, deployments unique per flow and listed by creation") {
  on_every_backend([](Scratch& s) {
    const FlowInfo flow = s.limits().ensure_flow("flow-1", "etl", kT0);
    CHECK(flow.id == "flow-1");
    CHECK(s.limits().ensure_flow("flow-2", "etl", kT0 + 1).id == "flow-1");
    CHECK(s.limits().read_flow("flow-1").value().name == "etl");
    CHECK_FALSE(s.limits().read_flow("flow-2"));
    s.limits().insert_v2_limit(v2_limit("lim", 1));
    auto deployment = [&](const std::string& id, const std::string& name, Timestamp created) {
      Deployment d;
      d.id = id;
      d.name = name;
      d.flow_id = flow.id;
      d.created = created;
      return d;
    };
    Deployment late = deployment("d-late", "nightly", kT0 + 10);
    late.tags = {"x", "y"};
    late.concurrency_limit_id = "lim";
    late.concurrency_options = ConcurrencyOptions{CollisionStrategy::kCancelNew, 600};
    s.limits().insert_deployment(late);
    s.limits().insert_deployment(deployment("d-early", "hourly", kT0));
    const auto dup =
        error_of([&] { s.limits().insert_deployment(deployment("d3", "nightly", kT0)); });
    REQUIRE(dup);
    CHECK(dup->kind() == ErrorKind::kBadData);
    std::vector<std::string> order;
    for (const Deployment& d : s.limits().list_deployments()) order.push_back(d.id);
    CHECK(order == std::vector<std::string>{"d-early", "d-late"});
    const Deployment read = s.limits().read_deployment("d-late").value();
    CHECK(read.tags == std::vector<std::string>{"x", "y"});
    CHECK(read.concurrency_limit_id == "lim");
    CHECK(read.concurrency_options->collision_strategy == CollisionStrategy::kCancelNew);
    CHECK(read.concurrency_options->grace_period_seconds == 600);
    CHECK_FALSE(s.limits().read_deployment("d-early")->concurrency_options);
    CHECK(s.limits().delete_v2_limit("lim"));
    CHECK_FALSE(s.limits().read_deployment("d-late")->concurrency_limit_id);
  });
}

Lease lease(const std::string& id, std::vector<std::string> limits, Timestamp expiration) {
  Lease l;
  l.id = id;
  l.resource_ids = std::move(limits);
  l.created_at = kT0;
  l.expiration = expiration;
  return l;
}

TEST_CASE("contract: leases by expiration, expired ones are reaped once") {
  on_every_backend([](Scratch& s) {
    s.limits().insert_v2_limit(v2_limit("a", 5, 3));
    s.limits().insert_v2_limit(v2_limit("b", 5, 1));
    Lease held = lease("held", {"b", "a"}, kT0 + 10 * kSec);
    held.slots = 2;
    held.holder = LeaseHolder{"task_run", "run-1"};
    held.origin_run_id = "run-1";
    s.limits().insert_lease(held);
    s.limits().insert_lease(lease("early", {"a"}, kT0 + 5 * kSec));
    s.limits().insert_lease(lease("live", {"a"}, kT0 + 100 * kSec));

    const Lease read = s.limits().read_lease("held").value();
    CHECK(read.resource_ids == std::vector<std::string>{"b", "a"});
    CHECK(read.slots == 2);
    CHECK(read.holder->id == "run-1");
    CHECK(read.origin_run_id == "run-1");
    std::vector<std::string> order;
    for (const Lease& l : s.limits().list_leases()) order.push_back(l.id);
    CHECK(order == std::vector<std::string>{"early", "held", "live"});
    CHECK(s.limits().leases_for_limit("b").size() == 1);
    CHECK(s.limits().expired_leases(kT0 + 10 * kSec).size() == 1);  // strictly before now
    const std::vector<std::string> only_b{"b"};
    CHECK(s.limits().expired_leases(kT0 + 11 * kSec, &only_b).at(0).id == "held");

    // Two connections reap at once: each lease is reaped, and its slots freed, exactly once.
    const std::unique_ptr<Database> other = s.connect(30000);
    std::vector<Lease> mine, theirs;
    std::thread racer([&] { theirs = other->concurrency().reap_expired_leases(kT0 + 20 * kSec); });
    mine = s.limits().reap_expired_leases(kT0 + 20 * kSec);
    racer.join();
    std::vector<std::string> reaped;
    for (const auto* list : {&mine, &theirs})
      for (const Lease& l : *list) reaped.push_back(l.id);
    std::sort(reaped.begin(), reaped.end());
    CHECK(reaped == std::vector<std::string>{"early", "held"});
    CHECK(s.limits().v2_limit_by_id("a")->active_slots == 0);  // 3 - 2 (held) - 1 (early)
    CHECK(s.limits().v2_limit_by_id("b")->active_slots == 0);  // 1 - 2, clamped
    CHECK_FALSE(s.limits().read_lease("held"));
    CHECK(s.limits().list_leases().size() == 1);
    CHECK(s.limits().reap_expired_leases(kT0 + 20 * kSec).empty());

    CHECK(s.limits().set_lease_expiration("live", kT0 + 200 * kSec));
    CHECK(s.limits().read_lease("live")->expiration == kT0 + 200 * kSec);
    CHECK_FALSE(s.limits().set_lease_expiration("held", kT0));
    CHECK(s.limits().delete_lease("live"));
    CHECK_FALSE(s.limits().delete_lease("live"));
    CHECK(s.limits().leases_for_limit("a").empty());
  });
}

}  // namespace
}  // namespace runctl
