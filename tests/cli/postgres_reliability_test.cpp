// Reliability on PostgreSQL (docs/postgres.md): many processes writing one server database at
// once lose no update and overcommit no slot; a killed client or a stopped server leaves no
// half-written transition; two `init`s at once both succeed; an unreachable server is one line
// and exit 69, never showing a password; an empty schema is no database yet (exit 66, as a
// missing SQLite file); a follower of events never skips a late commit.
//
// Each test works in a schema of its own on the server RUNCTL_TEST_PG names (`make test` runs
// under scripts/with-postgres.sh, which starts a throwaway cluster); without it they are skipped
// with a message. The tests that stop a server or need password logins start a private cluster.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "cli_fixture.hpp"
#include "postgres_support.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

using pgtest::PgDb;
using reliability::Child;

// ---------------------------------------------------------------------------------------------
// Forked workers, released together.

// A gate the children wait at until the parent opens it, so that they start at once.
class Gate {
 public:
  Gate() {
    if (::pipe(fds_) != 0) throw std::runtime_error("pipe failed");
  }
  ~Gate() {
    close_fd(fds_[0]);
    close_fd(fds_[1]);
  }
  void wait_in_child() {
    close_fd(fds_[1]);
    char c;
    [[maybe_unused]] auto n = ::read(fds_[0], &c, 1);  // returns at EOF: the gate opened
  }
  void open() { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

// Forks a worker that waits at the gate, runs `work` and exits with its status.
template <typename Work>
pid_t fork_worker(Gate& gate, Work&& work) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int code = 0;
    try {
      gate.wait_in_child();
      work();
    } catch (...) {
      code = 1;
    }
    ::_exit(code);  // not doctest's or the fixtures' teardown
  }
  return pid;
}

// Waits for every worker (killing all past the limit); true if all exited 0.
bool wait_all(std::vector<pid_t>& pids, std::chrono::seconds limit,
              const std::function<void()>& meanwhile = {}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool all_ok = true;
  std::size_t left = pids.size();
  while (left > 0) {
    for (pid_t& pid : pids) {
      if (pid <= 0) continue;
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        all_ok = all_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        pid = -1;
        --left;
      }
    }
    if (left == 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      for (pid_t pid : pids)
        if (pid > 0) ::kill(pid, SIGKILL);
      for (pid_t pid : pids)
        if (pid > 0) ::waitpid(pid, nullptr, 0);
      return false;
    }
    if (meanwhile)
      meanwhile();
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a watchdog poll
  }
  return all_ok;
}

std::vector<Json> read_json_lines(const std::string& path) {
  std::vector<Json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(Json::parse(line));
  return out;
}

std::optional<std::string> state_id(const Json& state) {
  if (!state.is_object()) return std::nullopt;
  return state["id"].get<std::string>();
}

// ---------------------------------------------------------------------------------------------
// What a transition leaves: checked in SQL, as the SQLite crash test does.

// Every run points at its newest state and copies it; every state row was logged by its run;
// every log row's validated state exists; no artifact without its state.
void check_consistent(const PgDb& db) {
  for (const char* kind : {"flow", "task"}) {
    const std::string runs = std::string(kind) + "_run";
    const std::string states = runs + "_state";
    const std::string fk = runs + "_id";
    CHECK(db.count("SELECT count(*) FROM " + runs + " AS r WHERE r.state_id IS DISTINCT FROM " +
                   "(SELECT s.id FROM " + states + " AS s WHERE s." + fk +
                   " = r.id ORDER BY s.timestamp DESC LIMIT 1)") == 0);
    CHECK(db.count("SELECT count(*) FROM " + runs + " AS r JOIN " + states +
                   " AS s ON s.id = r.state_id WHERE r.state_type IS DISTINCT FROM s.type OR "
                   "r.state_name IS DISTINCT FROM s.name OR r.state_timestamp IS DISTINCT FROM "
                   "s.timestamp") == 0);
    CHECK(db.count("SELECT count(*) FROM " + states +
                   " AS s WHERE NOT EXISTS (SELECT 1 FROM orchestration_log AS l WHERE "
                   "l.validated_state_id = s.id AND l.run_id = s." +
                   fk + ")") == 0);
  }
  CHECK(db.count("SELECT count(*) FROM orchestration_log AS l WHERE l.validated_state_id IS NOT "
                 "NULL AND NOT EXISTS (SELECT 1 FROM flow_run_state WHERE id = "
                 "l.validated_state_id) AND NOT EXISTS (SELECT 1 FROM task_run_state WHERE id = "
                 "l.validated_state_id)") == 0);
  CHECK(db.count("SELECT count(*) FROM artifact AS a WHERE NOT EXISTS (SELECT 1 FROM "
                 "flow_run_state WHERE result_artifact_id = a.id) AND NOT EXISTS (SELECT 1 FROM "
                 "task_run_state WHERE result_artifact_id = a.id)") == 0);
}

// An `apply` input: `lines` forced transitions over `runs`, every third with result data.
std::string apply_input(const std::vector<std::string>& runs, int lines) {
  const std::vector<std::string> types = {"RUNNING", "PENDING", "COMPLETED", "SCHEDULED"};
  std::string out;
  for (int i = 0; i < lines; ++i) {
    Json line{{"run_id", runs[static_cast<std::size_t>(i) % runs.size()]},
              {"state", {{"type", types[static_cast<std::size_t>(i / 7) % types.size()]}}},
              {"force", true}};
    if (i % 3 == 0)
      line["state"]["data"] = Json{{"value", i}, {"artifact_key", "k" + std::to_string(i)}};
    out += line.dump() + "\n";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// (a) No lost update.

TEST_CASE("postgres: 16 processes on 20 shared runs lose no update") {
  RUNCTL_PG_SERVER_OR_SKIP(server);
  constexpr int kWorkers = 16;
  constexpr int kTransitionsPerWorker = 25;
  const auto started = std::chrono::steady_clock::now();
  PgDb db(*server);
  REQUIRE(db.run({"init"}).exit_code == 0);
  std::vector<std::string> runs;
  for (int i = 0; i < 10; ++i) runs.push_back(db.create("flow", {"--state", "PENDING"}));
  for (int i = 0; i < 10; ++i) runs.push_back(db.create("task", {"--state", "PENDING"}));

  const std::vector<std::string> types = {"SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED",
                                          "CANCELLED", "CRASHED", "PAUSED",  "CANCELLING"};
  Gate gate;
  std::vector<pid_t> pids;
  for (int w = 0; w < kWorkers; ++w) {
    const std::string report = db.dir() + "/worker" + std::to_string(w) + ".jsonl";
    pids.push_back(fork_worker(gate, [&, w, report] {
      std::mt19937_64 rng(4242 + w);
      std::ofstream out(report);
      for (int i = 0; i < kTransitionsPerWorker; ++i) {
        const std::string run = runs[rng() % runs.size()];
        std::vector<std::string> args{"set-state", run, types[rng() % types.size()], "--json"};
        if (rng() % 2 == 0) args.push_back("--force");
        const ProcessResult r = db.run(args);
        Json o{{"run_id", run}, {"exit_code", r.exit_code}, {"err", r.err}};
        if (r.exit_code >= 0 && r.exit_code <= 3) {
          const Json j = Json::parse(r.out);
          o["initial_id"] =
              state_id(j["initial_state"]) ? Json(*state_id(j["initial_state"])) : Json();
          o["validated_id"] =
              state_id(j["validated_state"]) ? Json(*state_id(j["validated_state"])) : Json();
        }
        out << o.dump() << '\n';
      }
    }));
  }
  gate.open();
  REQUIRE_MESSAGE(wait_all(pids, std::chrono::seconds(600)), "a worker failed or hung");

  std::vector<Json> outcomes;
  for (int w = 0; w < kWorkers; ++w)
    for (Json& o : read_json_lines(db.dir() + "/worker" + std::to_string(w) + ".jsonl"))
      outcomes.push_back(std::move(o));
  REQUIRE(outcomes.size() == static_cast<std::size_t>(kWorkers * kTransitionsPerWorker));

  // Every process decided (0-3): no busy, no lost connection, no other error.
  std::map<int, int> by_exit;
  int failures = 0;
  std::map<std::string, std::map<std::string, std::optional<std::string>>> written;
  std::map<std::string, int> calls;
  for (const Json& o : outcomes) {
    const int code = o["exit_code"].get<int>();
    ++by_exit[code];
    if (code < 0 || code > 3) {
      if (++failures <= 5)
        FAIL_CHECK("exit " << code << " on " << o["run_id"] << ": " << o["err"].get<std::string>());
      continue;
    }
    const std::string run = o["run_id"].get<std::string>();
    ++calls[run];
    if (!o["validated_id"].is_string()) continue;
    const std::string validated = o["validated_id"].get<std::string>();
    const std::optional<std::string> initial =
        o["initial_id"].is_string() ? std::optional(o["initial_id"].get<std::string>())
                                    : std::nullopt;
    if (initial == validated) continue;  // the run kept its state
    CHECK_MESSAGE(written[run].emplace(validated, initial).second, "state written twice");
  }
  CHECK(failures == 0);
  std::string summary;
  for (const auto& [code, n] : by_exit)
    summary += " exit " + std::to_string(code) + ": " + std::to_string(n);
  MESSAGE("outcomes:" << summary);

  std::size_t states_written = 0;
  for (const std::string& run : runs) {
    CAPTURE(run);
    // The run's history, as `history --json` prints it: each state after the first was written
    // by exactly one reported transition, whose initial state is the state before it. A lost
    // update shows as two states claiming one predecessor, i.e. a broken link.
    const Json history = db.json({"history", run});
    const Json& states = history["states"];
    const auto& mine = written[run];
    REQUIRE(states.size() == mine.size() + 1);
    states_written += mine.size();
    for (std::size_t i = 1; i < states.size(); ++i) {
      const std::string id = states[i]["id"].get<std::string>();
      auto it = mine.find(id);
      REQUIRE_MESSAGE(it != mine.end(), "state " << id << " written by no reported transition");
      CHECK_MESSAGE(it->second == states[i - 1]["id"].get<std::string>(),
                    "state " << id << " does not follow the state its process saw");
    }
    // The run points at the newest state; one log row per orchestration (and the creation's),
    // each accepted one naming the state it wrote.
    CHECK(db.json({"show", run})["state"]["id"] == states.back()["id"]);
    const Json log = db.json({"log", run});
    CHECK(log["entries"].size() == static_cast<std::size_t>(calls[run] + 1));
    std::set<std::string> logged;
    for (const Json& e : log["entries"])
      if (e["validated_state_id"].is_string())
        logged.insert(e["validated_state_id"].get<std::string>());
    for (const auto& [id, predecessor] : mine) CHECK(logged.count(id) == 1);
  }
  CHECK(states_written > outcomes.size() / 10);  // the race wrote for real
  check_consistent(db);
  MESSAGE(states_written << " states written; took " << reliability::seconds_since(started)
                         << " s");
}

// ---------------------------------------------------------------------------------------------
// (b) A limit of 3 admits exactly 3.

// The active slot count `show --json` reports.
std::int64_t active_slots(const Json& shown) {
  const Json& a = shown["active_slots"];
  return a.is_array() ? static_cast<std::int64_t>(a.size()) : a.get<std::int64_t>();
}

void race_for_limit(const PgDb& db, const std::vector<std::string>& show_args) {
  constexpr int kRacers = 16;
  std::vector<std::string> tasks;
  for (int i = 0; i < kRacers; ++i)
    tasks.push_back(db.create("task", {"--state", "PENDING", "--tags", "race"}));

  Gate gate;
  std::vector<pid_t> pids;
  for (int i = 0; i < kRacers; ++i) {
    const std::string report = db.dir() + "/racer" + std::to_string(i) + ".json";
    pids.push_back(fork_worker(gate, [&, i, report] {
      const ProcessResult r =
          db.run({"set-state", tasks[static_cast<std::size_t>(i)], "RUNNING", "--json"});
      Json o{{"exit_code", r.exit_code}, {"err", r.err}};
      if (r.exit_code >= 0 && r.exit_code <= 3) {
        const Json j = Json::parse(r.out);
        o["status"] = j["status"];
        o["validated_type"] =
            j["validated_state"].is_object() ? j["validated_state"]["type"] : Json();
      }
      std::ofstream(report) << o.dump() << '\n';
    }));
  }
  // Sampled while the race runs: never more than the limit in use.
  std::int64_t max_seen = 0;
  int samples = 0;
  auto sample = [&] {
    const ProcessResult r = db.run([&] {
      std::vector<std::string> a = show_args;
      a.push_back("--json");
      return a;
    }());
    if (r.exit_code != 0) return;
    max_seen = std::max(max_seen, active_slots(Json::parse(r.out)));
    ++samples;
  };
  gate.open();
  REQUIRE_MESSAGE(wait_all(pids, std::chrono::seconds(300), sample), "a racer failed or hung");

  int admitted = 0, waiting = 0;
  for (int i = 0; i < kRacers; ++i) {
    const Json o = read_json_lines(db.dir() + "/racer" + std::to_string(i) + ".json").at(0);
    INFO(o.dump());
    if (o["exit_code"] == 0 && o["validated_type"] == "RUNNING")
      ++admitted;
    else if (o["exit_code"] == 2)
      ++waiting;
    else
      FAIL_CHECK("neither admitted nor told to wait");
  }
  CHECK(admitted == 3);
  CHECK(waiting == kRacers - 3);
  MESSAGE(samples << " samples while racing, at most " << max_seen << " slots in use");
  CHECK(samples > 0);
  CHECK(max_seen <= 3);
  std::vector<std::string> a = show_args;
  CHECK(active_slots(db.json(a)) == 3);
}

TEST_CASE("postgres: a tag limit of 3 raced by 16 processes admits exactly 3") {
  RUNCTL_PG_SERVER_OR_SKIP(server);
  SUBCASE("V1 tag limit (concurrency-limit)") {
    PgDb db(*server);
    REQUIRE(db.run({"concurrency-limit", "create", "--tag", "race", "--limit", "3"}).exit_code ==
            0);
    race_for_limit(db, {"concurrency-limit", "show", "race"});
  }
  SUBCASE("V2 tag limit (global-limit tag:race)") {
    PgDb db(*server);
    REQUIRE(db.run({"global-limit", "create", "tag:race", "--limit", "3"}).exit_code == 0);
    race_for_limit(db, {"global-limit", "show", "tag:race"});
  }
}

// ---------------------------------------------------------------------------------------------
// (c) SIGKILL mid-apply.

TEST_CASE("postgres: apply SIGKILLed mid-run leaves no half-written transition") {
  RUNCTL_PG_SERVER_OR_SKIP(server);
  PgDb db(*server);
  REQUIRE(db.run({"init"}).exit_code == 0);
  std::vector<std::string> runs;
  for (int i = 0; i < 6; ++i) runs.push_back(db.create("flow", {"--state", "PENDING"}));
  for (int i = 0; i < 4; ++i) runs.push_back(db.create("task", {"--state", "PENDING"}));
  const std::string input = db.dir() + "/in.jsonl";
  reliability::write_file(input, apply_input(runs, 20000));

  std::mt19937 rng(20261203);
  std::int64_t logged_before = db.count("SELECT count(*) FROM orchestration_log");
  for (int round = 0; round < 6; ++round) {
    CAPTURE(round);
    const std::string every = round % 2 == 0 ? "1" : "40";
    {
      Child apply(db.argv({"apply", input, "--commit-every", every}));
      std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 600));
      apply.kill_now();
      CHECK(apply.wait() == 128 + SIGKILL);
    }
    check_consistent(db);
    const std::int64_t logged = db.count("SELECT count(*) FROM orchestration_log");
    CHECK(logged > logged_before);  // it was killed mid-run, not before it started
    logged_before = logged;
    // The next command works: the server rolled the killed transaction back.
    const ProcessResult next = db.run({"set-state", runs[0], "RUNNING", "--force"});
    CHECK_MESSAGE(next.exit_code == 0, next.err);
  }
}

// ---------------------------------------------------------------------------------------------
// (d) The server stopped mid-apply.

TEST_CASE("postgres: the server stopped mid-apply gives a clear error and nothing half-written") {
  RUNCTL_PG_SERVER_OR_SKIP(server);
  pgtest::PrivateCluster cluster;
  REQUIRE_MESSAGE(cluster.error().empty(), cluster.error());
  REQUIRE_MESSAGE(cluster.start(), cluster.error());
  const std::string url = cluster.url();
  auto runctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {runctl_binary(), "--db", url});
    return run_process(args);
  };
  REQUIRE(runctl({"init"}).exit_code == 0);
  std::vector<std::string> runs;
  for (int i = 0; i < 8; ++i) {
    const ProcessResult r = runctl({"flow-run", "create", "--state", "PENDING", "--json"});
    REQUIRE(r.exit_code == 0);
    runs.push_back(Json::parse(r.out)["id"].get<std::string>());
  }
  const std::string input = cluster.dir() + "/in.jsonl";
  reliability::write_file(input, apply_input(runs, 20000));

  ProcessResult applied;
  std::thread apply([&] { applied = runctl({"apply", input, "--json"}); });
  // Stopped once the apply is well under way.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (pgtest::psql_count(url, "SELECT count(*) FROM orchestration_log") < 200 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  cluster.stop("fast");
  apply.join();

  CHECK(applied.exit_code == 69);
  CHECK(applied.err.empty());  // every result is a stdout line; libpq prints nothing of its own
  // Every line has its one-line result; from the stop on they say the connection was lost.
  std::vector<Json> results;
  std::size_t start = 0;
  while (start < applied.out.size()) {
    const std::size_t nl = applied.out.find('\n', start);
    results.push_back(Json::parse(applied.out.substr(start, nl - start)));
    start = nl + 1;
  }
  REQUIRE(results.size() == 20000);
  std::size_t first_error = results.size();
  for (std::size_t i = 0; i < results.size(); ++i)
    if (results[i].contains("error") && results[i]["error"].is_string()) {
      first_error = i;
      break;
    }
  REQUIRE(first_error < results.size());
  const std::string message = results[first_error]["error"].get<std::string>();
  MESSAGE("line " << first_error + 1 << ": " << message);
  CHECK(message.find('\n') == std::string::npos);
  // When the stop lands on a group's COMMIT, the group's lines say so first.
  const std::string lost = "lost the connection to PostgreSQL at " + cluster.dir() + ": ";
  CHECK((message.starts_with(lost) ||
         message.starts_with("rolled back with its group, not committed: " + lost)));
  for (std::size_t i = first_error; i < results.size(); ++i) {
    CHECK(results[i]["exit_code"] == 69);
    if (results[i]["exit_code"] != 69) break;
  }

  // Restarted: whole transitions only, and every one reported as written is there.
  REQUIRE_MESSAGE(cluster.start(), cluster.error());
  const std::string states =
      pgtest::psql_value(url, "SELECT string_agg(id, ',') FROM flow_run_state");
  for (std::size_t i = 0; i < first_error; ++i) {
    const Json& v = results[i]["validated_state"];
    if (v.is_object()) CHECK(states.find(v["id"].get<std::string>()) != std::string::npos);
  }
  const std::int64_t broken = pgtest::psql_count(
      url,
      "SELECT count(*) FROM flow_run AS r WHERE r.state_id IS DISTINCT FROM (SELECT s.id FROM "
      "flow_run_state AS s WHERE s.flow_run_id = r.id ORDER BY s.timestamp DESC LIMIT 1)");
  CHECK(broken == 0);
  CHECK(pgtest::psql_count(url,
                           "SELECT count(*) FROM orchestration_log AS l WHERE "
                           "l.validated_state_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                           "flow_run_state WHERE id = l.validated_state_id)") == 0);
  CHECK(runctl({"set-state", runs[0], "RUNNING", "--force"}).exit_code == 0);
}

// ---------------------------------------------------------------------------------------------
// (e) Two inits at once.

TEST_CASE("postgres: two inits (and two first writes) at once both succeed") {
  RUNCTL_PG_SERVER_OR_SKIP(server);
  for (const bool init : {true, false}) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      CAPTURE(init);
      CAPTURE(attempt);
      PgDb db(*server);
      Gate gate;
      std::vector<pid_t> pids;
      for (int i = 0; i < 2; ++i) {
        pids.push_back(fork_worker(gate, [&] {
          const ProcessResult r = init ? db.run({"init", "--json"})
                                       : db.run({"flow-run", "create", "--state", "PENDING"});
          if (r.exit_code != 0) throw std::runtime_error(r.err);
        }));
      }
      gate.open();
      CHECK_MESSAGE(wait_all(pids, std::chrono::seconds(60)), "an init failed");
      CHECK(db.json({"init"})["schema_version"] == 7);
      CHECK(db.count("SELECT count(*) FROM runctl_schema") == 1);
      if (!init) CHECK(db.count("SELECT count(*) FROM flow_run") == 2);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// (f) An unreachable server: exit 69, one line, no password.

void check_unreachable(const std::string& url, const std::string& password,
                       const std::string& expected_prefix) {
  CAPTURE(url);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"init"},
        {"show", "00000000-0000-4000-8000-000000000000", "--json"},
        {"flow-run", "create", "--state", "PENDING"},
        {"events", "--json"}}) {
    std::vector<std::string> argv{runctl_binary(), "--db", url};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult r = run_process(argv);
    CAPTURE(r.err);
    CHECK(r.exit_code == 69);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("runctl: " + expected_prefix));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(password) == std::string::npos);
  }
}

TEST_CASE("postgres: refused, unknown host and bad password exit 69 on one line, no password") {
  const std::string pw = "s3cret-Pa55";
  const int port = pgtest::unused_port();
  check_unreachable("postgresql://ci:" + pw + "@127.0.0.1:" + std::to_string(port) + "/db", pw,
                    "cannot connect to PostgreSQL at 127.0.0.1:" + std::to_string(port) + ": ");
  check_unreachable("postgresql://ci:" + pw + "@nosuchhost.invalid/db", pw,
                    "cannot connect to PostgreSQL at nosuchhost.invalid");
  check_unreachable("postgresql:///db?host=/nonexistent-runctl-dir&password=" + pw, pw,
                    "cannot connect to PostgreSQL at /nonexistent-runctl-dir: ");

  RUNCTL_PG_SERVER_OR_SKIP(server);
  pgtest::PrivateCluster cluster("the-right-one");
  REQUIRE_MESSAGE(cluster.error().empty(), cluster.error());
  REQUIRE_MESSAGE(cluster.start(), cluster.error());
  const std::string socket = "?host=" + cluster.dir();
  check_unreachable("postgresql://" + cluster.owner() + ":" + pw + "@/postgres" + socket, pw,
                    "cannot connect to PostgreSQL at " + cluster.dir() + ": ");
  check_unreachable(cluster.url() + "&password=" + pw, pw,
                    "cannot connect to PostgreSQL at " + cluster.dir() + ": ");
  // The reason is the server's: authentication failed.
  const ProcessResult r =
      run_process({runctl_binary(), "--db", cluster.url() + "&password=" + pw, "init"});
  CHECK(r.err.find("password authentication failed") != std::string::npos);
  // With the right password, it works; and the URL runctl shows has it masked.
  const ProcessResult ok = run_process(
      {runctl_binary(), "--db",
       "postgresql://" + cluster.owner() + ":the-right-one@/postgres" + socket, "init"});
  CHECK_MESSAGE(ok.exit_code == 0, ok.err);
  CHECK(ok.out.find("the-right-one") == std::string::npos);
  CHECK(ok.out.find(":****@") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// (g) No runctl database yet: an empty schema is what a missing SQLite file is.

TEST_CASE("postgres: an empty schema is no database: exit 66, as for a missing SQLite file") {
  RUNCTL_PG_SERVER_OR_SKIP(server);
  PgDb db(*server);  // a schema with nothing in it, as a new database's `public`
  const std::string run = "00000000-0000-4000-8000-000000000000";
  const std::string missing_file = db.dir() + "/missing.db";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"show", run},
        {"history", run, "--json"},
        {"log", run},
        {"task-queue", "list"},
        {"global-limit", "list"},
        {"lease", "list"},
        {"events", "--json"},
        {"set-state", run, "RUNNING"}}) {  // a write that needs a database: the same
    CAPTURE(CliDb::join(args));
    const ProcessResult r = db.run(args);
    CHECK(r.exit_code == 66);
    CHECK(r.out.empty());
    CHECK(r.err == "runctl: database not found: " + db.url() +
                       " (its schema is empty; `runctl init` creates it)\n");
    std::vector<std::string> on_file{runctl_binary(), "--db", missing_file};
    on_file.insert(on_file.end(), args.begin(), args.end());
    const ProcessResult file = run_process(on_file);
    CHECK(file.exit_code == 66);
    CHECK(file.err.starts_with("runctl: database not found: " + missing_file + " ("));
  }
  // Nothing was created by them; init and the create commands still make the database there.
  CHECK(db.count("SELECT count(*) FROM pg_class WHERE relnamespace = "
                 "current_schema()::regnamespace") == 0);
  const std::string created = db.create("flow", {"--state", "PENDING"});
  CHECK(db.json({"show", created})["state"]["type"] == "PENDING");
}

// ---------------------------------------------------------------------------------------------
// Events and locks against transactions held open by psql.

// A psql session that runs `sql_before`, signals, sleeps `hold_s` and commits: a writer holding
// locks or uncommitted rows for as long as the test needs.
class HeldTransaction {
 public:
  HeldTransaction(const PgDb& db, const std::string& sql_before, double hold_s)
      : ready_(db.dir() + "/ready-" + pgtest::random_suffix()) {
    const std::string script = db.dir() + "/held-" + pgtest::random_suffix() + ".sql";
    reliability::write_file(script, "\\set ON_ERROR_STOP on\nBEGIN;\n" + sql_before +
                                        "\n\\! touch " + ready_ + "\nSELECT pg_sleep(" +
                                        std::to_string(hold_s) + ");\nCOMMIT;\n");
    child_ = std::make_unique<Child>(
        std::vector<std::string>{pgtest::psql_path(), "-X", "-q", "-d", db.url(), "-f", script});
    ok_ = pgtest::wait_for_file(ready_, std::chrono::seconds(30));
  }
  bool ok() const { return ok_; }
  int wait() { return child_->wait(); }

 private:
  std::string ready_;
  std::unique_ptr<Child> child_;
  bool ok_ = false;
};

TEST_CASE("postgres: an events reader never skips a log row that commits late") {
  RUNCTL_PG_SERVER_OR_SKIP(server);
  PgDb db(*server);
  const std::string run = db.create("flow", {"--state", "SCHEDULED"});
  // A writer takes the next log id and holds it uncommitted (as a slow transition would).
  HeldTransaction late(
      db,
      "INSERT INTO orchestration_log (id, run_id, run_kind, at, status, details, "
      "rule_signature_id, finalization_signature_id, duration_us, policy, event, event_occurred, "
      "event_resource, event_related, event_payload) SELECT runctl_next_log_id(), '" +
          run +
          "', 'flow', '2026-01-01T00:00:00.000000+00:00', 'ACCEPT', '{}', s.id, s.id, 0, 'late', "
          "'prefect.flow-run.Late', '2026-01-01T00:00:00.000000+00:00', '{}', '[]', '{}' FROM "
          "signature AS s LIMIT 1;",
      3.0);
  REQUIRE(late.ok());
  // A later id commits first.
  REQUIRE(db.run({"set-state", run, "PENDING"}).exit_code == 0);
  auto names = [](const Json& events) {
    std::vector<std::string> out;
    for (const Json& e : events) out.push_back(e["event"].get<std::string>());
    return out;
  };
  // A reader that may not wait long enough sees only what lies before the open id...
  const Json early = db.json({"--busy-timeout", "200", "events"})["events"];
  CHECK(names(early) == std::vector<std::string>{"prefect.flow-run.Scheduled"});
  // ...one that waits sees both, in id order; so does a follower that was already reading.
  ProcessResult followed;
  std::thread follower([&] {
    followed = db.run({"events", "--follow", "--json", "--timeout", "8", "--count", "3"});
  });
  const Json all = db.json({"--busy-timeout", "10000", "events"})["events"];
  follower.join();
  CHECK(names(all) == std::vector<std::string>{"prefect.flow-run.Scheduled",
                                               "prefect.flow-run.Late",
                                               "prefect.flow-run.Pending"});
  CHECK(late.wait() == 0);
  std::vector<std::string> streamed;
  std::size_t start = 0;
  while (start < followed.out.size()) {
    const std::size_t nl = followed.out.find('\n', start);
    streamed.push_back(
        Json::parse(followed.out.substr(start, nl - start))["event"].get<std::string>());
    start = nl + 1;
  }
  CHECK(streamed == names(all));
}

TEST_CASE("postgres: a run locked past --busy-timeout exits 75 and writes nothing") {
  RUNCTL_PG_SERVER_OR_SKIP(server);
  PgDb db(*server);
  const std::string run = db.create("flow", {"--state", "SCHEDULED"});
  const std::int64_t logged = db.count("SELECT count(*) FROM orchestration_log");
  HeldTransaction holder(db, "SELECT 1 FROM flow_run WHERE id = '" + run + "' FOR UPDATE;", 3.0);
  REQUIRE(holder.ok());
  const auto started = std::chrono::steady_clock::now();
  const ProcessResult r = db.run({"--busy-timeout", "300", "set-state", run, "PENDING"});
  const double took = reliability::seconds_since(started);
  CHECK(r.exit_code == 75);
  CHECK(r.err.starts_with("runctl: database is busy: "));
  CHECK(r.err.find("longer than the busy timeout") != std::string::npos);
  CHECK(took < 2.5);
  CHECK(db.count("SELECT count(*) FROM orchestration_log") == logged);
  CHECK(holder.wait() == 0);
  CHECK(db.run({"set-state", run, "PENDING"}).exit_code == 0);
}

}  // namespace
}  // namespace runctl::clitest
