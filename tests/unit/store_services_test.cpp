// lib/service/store_services.cpp, transition.cpp and batch.cpp on a real database: the nested
// forced orchestration of a subflow's parent task run writes the very state the caller built
// (Prefect's UpdateSubflowParentTask proposes its fresh copy of the subflow's state, and
// validation keeps that copy's id and timestamp).
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "service/batch.hpp"
#include "service/runs.hpp"
#include "service/store_services.hpp"
#include "service/transition.hpp"
#include "util/random.hpp"
#include "util/time.hpp"

#include "store_fixture.hpp"

namespace runctl {
namespace {

using store_testing::CountingUuids;
using store_testing::Db;
using store_testing::kNow;
using store_testing::kSecond;
using store_testing::proposal;

// A run created with an initial RUNNING state at `at`, as `flow-run create --state RUNNING`.
Run create_running(Database& store, RunSpec spec, Timestamp at, UuidGenerator& uuids) {
  return store_testing::create(store, spec, 1, StateType::kRunning, at, uuids).front().run;
}

struct Subflow {
  Db db;
  CountingUuids uuids;
  Run parent_flow, parent_task, subflow;
  Subflow() {
    RunSpec flow;
    parent_flow = create_running(*db.store, flow, kNow - 30 * kSecond, uuids);
    RunSpec task;
    task.kind = RunKind::kTask;
    task.flow_run_id = parent_flow.id;
    parent_task = create_running(*db.store, task, kNow - 20 * kSecond, uuids);
    RunSpec sub;
    sub.parent_task_run_id = parent_task.id;
    subflow = create_running(*db.store, sub, kNow - 10 * kSecond, uuids);
  }
  StatePtr current(RunKind kind, const std::string& id) {
    std::optional<Run> run = db.store->runs().load_run(kind, id);
    REQUIRE(run);
    return db.store->runs().load_current_state(*run);
  }
};

TEST_CASE("UpdateSubflowParentTask: the parent task run gets the copy's own id and timestamp") {
  Subflow s;
  const std::size_t before = s.uuids.minted.size();
  FixedClock clock(kNow);
  SeededRandom random(1);
  const Environment env{clock, s.uuids, random};
  TransitionRequest request;
  request.run_id = s.subflow.id;
  request.proposal = proposal(StateType::kFailed);
  const TransitionResult result = set_state(*s.db.store, request, env);
  REQUIRE_FALSE(result.error);
  REQUIRE(result.status == SetStateStatus::kAccept);

  const StatePtr sub = s.current(RunKind::kFlow, s.subflow.id);
  const StatePtr task = s.current(RunKind::kTask, s.parent_task.id);
  REQUIRE(sub);
  REQUIRE(task);
  CHECK(task->type == StateType::kFailed);
  CHECK(task->details->child_flow_run_id == s.subflow.id);
  // Two ids were minted: the subflow's new state, then the transform's fresh copy of it, which
  // the nested orchestration wrote as it was (no third id for the task run's state).
  const std::vector<std::string> minted(s.uuids.minted.begin() + before, s.uuids.minted.end());
  CHECK(minted == std::vector<std::string>{sub->id, task->id});
  CHECK(task->id != sub->id);
  CHECK(task->timestamp == kNow);
}

TEST_CASE("force_task_run_state writes the given state's id and timestamp") {
  Subflow s;
  FixedClock clock(kNow);
  SeededRandom random(1);
  const Environment env{clock, s.uuids, random};
  StoreServices services(*s.db.store, env);
  State state;
  state.id = "9e4f0b7c-1d2a-4c3b-8e5f-000000000abc";
  state.type = StateType::kCompleted;
  state.name = "Completed";
  state.timestamp = kNow - 5 * kSecond;
  state.message = "mirrored";
  {
    WriteTransaction tx(*s.db.store);
    services.force_task_run_state(s.parent_task.id, state);
    tx.commit();
  }
  const StatePtr task = s.current(RunKind::kTask, s.parent_task.id);
  REQUIRE(task);
  CHECK(task->id == state.id);
  CHECK(task->timestamp == state.timestamp);
  CHECK(task->type == StateType::kCompleted);
  CHECK(task->message == std::optional<std::string>("mirrored"));
}

TEST_CASE("a request without a state id or timestamp: the server mints both") {
  Subflow s;
  const std::size_t before = s.uuids.minted.size();
  FixedClock clock(kNow);
  SeededRandom random(1);
  const Environment env{clock, s.uuids, random};
  TransitionRequest request;
  request.run_id = s.parent_flow.id;
  request.proposal = proposal(StateType::kCompleted);
  const TransitionResult result = set_state(*s.db.store, request, env);
  REQUIRE_FALSE(result.error);
  REQUIRE(result.validated_state);
  REQUIRE(s.uuids.minted.size() == before + 1);
  CHECK(result.validated_state->id == s.uuids.minted.back());
  CHECK(result.validated_state->timestamp == kNow);
}

// batch.cpp runs a group without savepoints; a failing transition rolls the group back and runs
// it again with savepoints, the sources rewound. Line for line, and id for id, the outcome is
// the one a commit per transition gives.
TEST_CASE("a batch group replayed after a failure gives what one commit each gives") {
  struct Seen {
    std::vector<std::string> lines;
    std::vector<std::string> minted;
    std::vector<std::string> current;
    bool operator==(const Seen&) const = default;
  };
  std::vector<Seen> seen;
  for (const int every : {1, 10}) {
    CAPTURE(every);
    Db db;
    const std::string policy = db.dir + "/boom.json";
    std::ofstream(policy) << R"({"rules": [{"name": "Boom", "from": "*", "to": ["COMPLETED"],
                                            "after": [{"fail": "boom"}]}]})";
    CountingUuids uuids;
    FixedClock created_at(kNow);
    SeededRandom random(1);
    std::vector<CreatedRun> made =
        create_runs(*db.store, RunSpec(), 3, proposal(StateType::kPending),
                    Environment{created_at, uuids, random});
    REQUIRE(made.size() == 3);
    FixedClock clock(kNow + 10 * kSecond);
    const Environment env{clock, uuids, random};
    Seen s;
    {
      TransitionBatch batch(*db.store, env, BatchOptions{policy, every});
      const std::pair<std::size_t, StateType> lines[] = {{0, StateType::kRunning},
                                                         {0, StateType::kCompleted},  // boom
                                                         {1, StateType::kRunning},
                                                         {2, StateType::kRunning}};
      std::size_t line = 0;
      for (const auto& [run, type] : lines) {
        TransitionRequest request;
        request.run_id = made[run].run.id;
        request.proposal = proposal(type);
        batch.apply(++line, std::move(request));
      }
      batch.commit();
      for (const BatchOutcome& o : batch.take_settled()) {
        REQUIRE(o.result);
        s.lines.push_back(std::to_string(o.line) + " " +
                          std::string(status_name(o.result->status)) + " " +
                          (o.result->validated_state ? o.result->validated_state->id : "-") + " " +
                          o.result->error.value_or("-"));
      }
    }
    s.minted = uuids.minted;
    for (const CreatedRun& c : made) {
      const std::optional<Run> run = db.store->runs().load_run(RunKind::kFlow, c.run.id);
      REQUIRE(run);
      s.current.push_back(std::string(type_name(*run->state_type)) + " " + *run->state_id);
    }
    CHECK(s.lines.size() == 4);
    CHECK(s.lines[1].find("boom") != std::string::npos);
    CHECK(s.current[0].rfind("RUNNING ", 0) == 0);
    seen.push_back(std::move(s));
  }
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].lines == seen[1].lines);
  CHECK(seen[0].minted == seen[1].minted);
  CHECK(seen[0].current == seen[1].current);
}

}  // namespace
}  // namespace runctl
