// TransitionBatch (lib/service/batch.cpp), `runctl apply`'s engine, on a scratch database: when
// outcomes are settled, what a group commits or rolls back, and how a bad line stays alone. The
// replay of a failed group against one commit each is in store_services_test.cpp.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "service/batch.hpp"
#include "service/transition.hpp"

#include "store_fixture.hpp"

namespace runctl {
namespace {

using store_testing::CountingUuids;
using store_testing::Db;
using store_testing::kNow;
using store_testing::kSecond;
using store_testing::proposal;

// Three PENDING flow runs and a clock ten seconds after their creation.
struct BatchWorld {
  Db db;
  CountingUuids uuids;
  SeededRandom random{1};
  FixedClock clock{kNow + 10 * kSecond};
  Environment env{clock, uuids, random};
  std::vector<CreatedRun> made =
      store_testing::create(*db.store, RunSpec(), 3, StateType::kPending, kNow, uuids);

  std::string id(std::size_t i) const { return made.at(i).run.id; }
  TransitionRequest request(std::size_t run, StateType type) const {
    TransitionRequest r;
    r.run_id = id(run);
    r.proposal = proposal(type);
    return r;
  }
  std::string current_type(std::size_t run) {
    const std::optional<Run> r = db.store->runs().load_run(RunKind::kFlow, id(run));
    REQUIRE(r);
    return r->state_type ? std::string(type_name(*r->state_type)) : "NONE";
  }
};

std::vector<std::size_t> lines_of(const std::vector<BatchOutcome>& outcomes) {
  std::vector<std::size_t> out;
  for (const BatchOutcome& o : outcomes) out.push_back(o.line);
  return out;
}

TEST_CASE("TransitionBatch: a group's outcomes are settled when it commits, not before") {
  BatchWorld w;
  TransitionBatch batch(*w.db.store, w.env, BatchOptions{std::nullopt, 2});
  batch.apply(1, w.request(0, StateType::kRunning));
  CHECK(batch.take_settled().empty());
  batch.apply(2, w.request(1, StateType::kRunning));  // the group is full: committed
  const std::vector<BatchOutcome> settled = batch.take_settled();
  CHECK(lines_of(settled) == std::vector<std::size_t>{1, 2});
  for (const BatchOutcome& o : settled) {
    REQUIRE(o.result);
    CHECK(o.result->status == SetStateStatus::kAccept);
    CHECK_FALSE(o.result->dry_run);
  }
  batch.apply(3, w.request(2, StateType::kRunning));
  CHECK(batch.take_settled().empty());
  batch.commit();
  CHECK(lines_of(batch.take_settled()) == std::vector<std::size_t>{3});
  CHECK(w.current_type(0) == "RUNNING");
  CHECK(w.current_type(2) == "RUNNING");
}

TEST_CASE("TransitionBatch: a batch destroyed with an open group writes nothing of it") {
  BatchWorld w;
  {
    TransitionBatch batch(*w.db.store, w.env, BatchOptions{std::nullopt, 10});
    batch.apply(1, w.request(0, StateType::kRunning));
    batch.apply(2, w.request(1, StateType::kRunning));
  }
  CHECK(w.current_type(0) == "PENDING");
  CHECK(w.current_type(1) == "PENDING");
}

TEST_CASE("TransitionBatch: a dry run decides every line and writes none") {
  BatchWorld w;
  TransitionBatch batch(*w.db.store, w.env, BatchOptions{std::nullopt, 1, true});
  batch.apply(1, w.request(0, StateType::kRunning));
  batch.apply(2, w.request(0, StateType::kCompleted));
  batch.commit();
  const std::vector<BatchOutcome> settled = batch.take_settled();
  REQUIRE(settled.size() == 2);
  for (const BatchOutcome& o : settled) {
    REQUIRE(o.result);
    CHECK(o.result->dry_run);
  }
  CHECK(settled[0].result->status == SetStateStatus::kAccept);
  // Decided against the database as it is: the run is still PENDING for line 2.
  REQUIRE(settled[1].result->initial_state);
  CHECK(settled[1].result->initial_state->type == StateType::kPending);
  CHECK(w.current_type(0) == "PENDING");
}

TEST_CASE("TransitionBatch: an unknown run fails its line alone, and the group commits the rest") {
  BatchWorld w;
  TransitionBatch batch(*w.db.store, w.env, BatchOptions{std::nullopt, 3});
  batch.apply(1, w.request(0, StateType::kRunning));
  TransitionRequest missing = w.request(1, StateType::kRunning);
  missing.run_id = "00000000-0000-4000-8000-ffffffffffff";
  batch.apply(2, std::move(missing));
  batch.apply(3, w.request(2, StateType::kRunning));
  batch.commit();
  const std::vector<BatchOutcome> settled = batch.take_settled();
  REQUIRE(lines_of(settled) == std::vector<std::size_t>{1, 2, 3});
  CHECK(settled[0].result);
  REQUIRE(settled[1].error);
  CHECK(settled[1].error->kind() == ErrorKind::kNotFound);
  CHECK_FALSE(settled[1].result);
  CHECK(settled[2].result);
  CHECK(w.current_type(0) == "RUNNING");
  CHECK(w.current_type(1) == "PENDING");
  CHECK(w.current_type(2) == "RUNNING");
}

TEST_CASE("TransitionBatch: a rejected line is reported in submission order") {
  BatchWorld w;
  TransitionBatch batch(*w.db.store, w.env, BatchOptions{std::nullopt, 5});
  batch.apply(1, w.request(0, StateType::kRunning));
  batch.reject(2, std::nullopt, Error(ErrorKind::kBadData, "line 2: not JSON"));
  batch.apply(3, w.request(1, StateType::kRunning));
  CHECK(batch.take_settled().empty());  // line 2 waits for the group before it
  batch.commit();
  const std::vector<BatchOutcome> settled = batch.take_settled();
  REQUIRE(lines_of(settled) == std::vector<std::size_t>{1, 2, 3});
  REQUIRE(settled[1].error);
  CHECK(std::string(settled[1].error->what()) == "line 2: not JSON");
}

TEST_CASE("TransitionBatch: lines of one run in one group see each other's writes") {
  BatchWorld w;
  TransitionBatch batch(*w.db.store, w.env, BatchOptions{std::nullopt, 10});
  batch.apply(1, w.request(0, StateType::kRunning));
  batch.apply(2, w.request(0, StateType::kCompleted));
  batch.commit();
  const std::vector<BatchOutcome> settled = batch.take_settled();
  REQUIRE(settled.size() == 2);
  REQUIRE(settled[1].result);
  REQUIRE(settled[1].result->initial_state);
  CHECK(settled[1].result->initial_state->type == StateType::kRunning);
  CHECK(settled[1].result->status == SetStateStatus::kAccept);
  CHECK(w.current_type(0) == "COMPLETED");
}

TEST_CASE(
    "TransitionBatch: the policy is resolved up front, and forced lines run the minimal one") {
  BatchWorld w;
  CHECK_THROWS_AS(TransitionBatch(*w.db.store, w.env, BatchOptions{"NoSuchPolicy", 1}), Error);

  TransitionBatch batch(*w.db.store, w.env, BatchOptions{std::nullopt, 1});
  batch.apply(1, w.request(0, StateType::kRunning));
  TransitionRequest forced = w.request(1, StateType::kCompleted);
  forced.force = true;
  batch.apply(2, std::move(forced));
  batch.commit();
  const std::vector<BatchOutcome> settled = batch.take_settled();
  REQUIRE(settled.size() == 2);
  REQUIRE(settled[0].result);
  REQUIRE(settled[1].result);
  CHECK(settled[0].result->policy == "CoreFlowPolicy");
  CHECK(settled[1].result->policy != "CoreFlowPolicy");
  CHECK(w.current_type(1) == "COMPLETED");
}

}  // namespace
}  // namespace runctl
