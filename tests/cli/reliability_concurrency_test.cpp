// Reliability property 1: concurrent writers. Eight processes apply 250 transitions each against
// one database, half of them on runs that every process shares. Afterwards nothing is lost,
// duplicated or half-written, and no process met a busy/locked error at the default busy
// timeout. What was written is read back through the repository API, on either backend.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "cli_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

constexpr int kWorkers = 8;
constexpr int kTransitionsPerWorker = 250;

const std::vector<std::string> kTypes = {"SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED",
                                         "CANCELLED", "CRASHED", "PAUSED",  "CANCELLING"};

// What one set-state reported. Written by a worker process as one JSON line, read by the test.
struct Outcome {
  std::string run_id;
  int exit_code = -1;
  std::string err;
  std::optional<std::string> initial_id, validated_id;
  std::string status;
};

Json outcome_to_json(const Outcome& o) {
  return Json{{"run_id", o.run_id},
              {"exit_code", o.exit_code},
              {"err", o.err},
              {"initial_id", o.initial_id ? Json(*o.initial_id) : Json(nullptr)},
              {"validated_id", o.validated_id ? Json(*o.validated_id) : Json(nullptr)},
              {"status", o.status}};
}

Outcome outcome_from_json(const Json& j) {
  Outcome o;
  o.run_id = j["run_id"].get<std::string>();
  o.exit_code = j["exit_code"].get<int>();
  o.err = j["err"].get<std::string>();
  if (j["initial_id"].is_string()) o.initial_id = j["initial_id"].get<std::string>();
  if (j["validated_id"].is_string()) o.validated_id = j["validated_id"].get<std::string>();
  o.status = j["status"].get<std::string>();
  return o;
}

std::optional<std::string> state_id(const Json& state) {
  if (!state.is_object()) return std::nullopt;
  return state["id"].get<std::string>();
}

// One worker: a plain loop of runctl processes, like an operator's CI job. Runs in a forked
// child of the test; reports through a file, never through doctest.
void run_worker(const CliDb& db, int worker, const std::vector<std::string>& shared,
                const std::vector<std::string>& own, const std::string& report) {
  std::mt19937_64 rng(20260101 + worker);
  std::ofstream out(report);
  for (int i = 0; i < kTransitionsPerWorker; ++i) {
    const auto& pool = i % 2 == 0 ? shared : own;
    Outcome o;
    o.run_id = pool[rng() % pool.size()];
    std::vector<std::string> args{"set-state", o.run_id, kTypes[rng() % kTypes.size()], "--json"};
    // Half forced (the minimal policy accepts nearly everything, so chains grow), half through
    // the core policy (rejections, waits and aborts).
    if (rng() % 2 == 0) args.push_back("--force");
    const ProcessResult r = db.run(args);
    o.exit_code = r.exit_code;
    o.err = r.err;
    if (r.exit_code >= 0 && r.exit_code <= 3) {
      try {
        const Json j = Json::parse(r.out);
        o.initial_id = state_id(j["initial_state"]);
        o.validated_id = state_id(j["validated_state"]);
        o.status = j["status"].get<std::string>();
      } catch (const std::exception& e) {
        o.err += std::string(" [stdout not JSON: ") + e.what() + "]";
        o.exit_code = -2;
      }
    }
    out << outcome_to_json(o).dump() << '\n';
  }
  out.flush();
}

// Waits for every worker, killing all of them if the whole run overruns: the test is bounded
// even if a writer hangs.
bool wait_all(std::vector<pid_t>& pids, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool all_ok = true;
  size_t left = pids.size();
  while (left > 0) {
    for (pid_t& pid : pids) {
      if (pid <= 0) continue;
      int status = 0;
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
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
    // A watchdog poll, not synchronisation: the outcome does not depend on this interval.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return all_ok;
}

TEST_CASE("reliability: 8 concurrent writers lose nothing and never see a locked database") {
  const auto started = std::chrono::steady_clock::now();
  CliDb db;
  REQUIRE(db.run({"init"}).exit_code == 0);

  // Shared runs: every worker proposes states for them. Own runs: one worker only.
  std::vector<std::string> shared, all_runs;
  for (int i = 0; i < 3; ++i) shared.push_back(db.create_flow({"--state", "PENDING"}));
  for (int i = 0; i < 2; ++i) shared.push_back(db.create_task({"--state", "PENDING"}));
  std::vector<std::vector<std::string>> own(kWorkers);
  for (int w = 0; w < kWorkers; ++w) {
    own[w].push_back(db.create_flow({"--state", "PENDING"}));
    own[w].push_back(db.create_task({"--state", "PENDING"}));
  }
  all_runs = shared;
  for (const auto& o : own) all_runs.insert(all_runs.end(), o.begin(), o.end());
  for (const auto& id : all_runs) REQUIRE(id.size() == 36);

  std::vector<pid_t> pids;
  for (int w = 0; w < kWorkers; ++w) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int code = 0;
      try {
        run_worker(db, w, shared, own[w], db.dir() + "/worker" + std::to_string(w) + ".jsonl");
      } catch (...) {
        code = 1;
      }
      // _exit: the child must not run doctest's or the fixture's teardown.
      ::_exit(code);
    }
    pids.push_back(pid);
  }
  REQUIRE_MESSAGE(wait_all(pids, std::chrono::seconds(900)), "a worker failed or hung");

  // Every process exited 0-3: never busy (75), never locked, never anything else.
  std::vector<Outcome> outcomes;
  std::map<int, int> by_exit;
  for (int w = 0; w < kWorkers; ++w) {
    std::ifstream in(db.dir() + "/worker" + std::to_string(w) + ".jsonl");
    std::string line;
    while (std::getline(in, line)) outcomes.push_back(outcome_from_json(Json::parse(line)));
  }
  REQUIRE(outcomes.size() == static_cast<size_t>(kWorkers * kTransitionsPerWorker));
  int failures = 0;
  for (const Outcome& o : outcomes) {
    ++by_exit[o.exit_code];
    if (o.exit_code < 0 || o.exit_code > 3) {
      if (++failures <= 5)
        FAIL_CHECK("exit " << o.exit_code << " on " << o.run_id << ": " << o.err);
    } else {
      CHECK(o.err.empty());
    }
  }
  CHECK(failures == 0);
  std::string summary;
  for (const auto& [code, n] : by_exit)
    summary += " exit " + std::to_string(code) + ": " + std::to_string(n);
  MESSAGE("outcomes:" << summary);

  // A SQLite file's own check; a PostgreSQL server keeps its pages consistent itself.
  if (!db.is_postgres()) CHECK(reliability::integrity(db.path()) == "ok");

  // Per run: the transitions that wrote a state (the validated state is new) and how many
  // orchestrations ran on it.
  std::map<std::string, std::map<std::string, std::optional<std::string>>>
      written;  // run -> state -> its predecessor
  std::map<std::string, int> calls;
  std::set<std::string> seen_validated;
  for (const Outcome& o : outcomes) {
    if (o.exit_code < 0 || o.exit_code > 3) continue;
    ++calls[o.run_id];
    if (!o.validated_id || o.validated_id == o.initial_id) continue;
    // A state id is written once: two processes never both "win" with the same state.
    CHECK_MESSAGE(seen_validated.insert(*o.validated_id).second, "state written twice");
    written[o.run_id][*o.validated_id] = o.initial_id;
  }
  MESSAGE(seen_validated.size() << " states written by " << outcomes.size() << " transitions");
  CHECK(seen_validated.size() > outcomes.size() / 10);  // the test exercised real writes

  const auto store = db.open(OpenMode::kRead);
  for (const std::string& run_id : all_runs) {
    CAPTURE(run_id);
    const std::optional<Run> run = store->runs().find_run(run_id);
    REQUIRE(run.has_value());
    const std::vector<StatePtr> history = store->runs().load_history(*run);
    const auto& mine = written[run_id];
    // Every accepted transition has exactly one state row (plus the state it was created in).
    REQUIRE(history.size() == mine.size() + 1);
    // The chain, in history (timestamp) order: each state's predecessor is the state the process
    // saw as current when its proposal was validated. A lost update would show as two states
    // claiming the same predecessor, and a history out of commit order as a broken link.
    for (size_t i = 1; i < history.size(); ++i) {
      const std::string& id = history[i]->id;
      auto it = mine.find(id);
      REQUIRE_MESSAGE(it != mine.end(), "state " << id << " written by no reported transition");
      CHECK_MESSAGE(it->second == history[i - 1]->id,
                    "state " << id << " does not follow the state its process saw");
    }
    // The run's own fields point at the last state.
    CHECK(run->state_id == history.back()->id);
    CHECK(run->state_type == history.back()->type);
    // One orchestration_log row per orchestration (and one for the creation).
    const std::vector<LogEntry> log = store->runs().load_log(run_id);
    CHECK(log.size() == static_cast<size_t>(calls[run_id] + 1));
    // Each written state is named by a log row of the transition that wrote it (later
    // rejections that keep the state name it too).
    for (const auto& written : mine) {
      // A copy, not the structured binding: clang before 16 cannot capture a binding.
      const auto& id = written.first;
      CHECK_MESSAGE(std::any_of(log.begin(), log.end(),
                                [&](const LogEntry& e) {
                                  return e.validated_state_id == id && !e.status.empty();
                                }),
                    "state " << id << " is in no log row");
    }
  }
  MESSAGE("concurrency test took " << reliability::seconds_since(started) << " s");
}

}  // namespace
}  // namespace runctl::clitest
