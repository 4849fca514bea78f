// V1 tag concurrency limits (SecureTaskConcurrencySlots and ReleaseTaskConcurrencySlots), through
// the CLI, after Prefect's TestTaskConcurrencyLimits
// (tests/server/orchestration/test_core_policy.py), plus the multi-process race of the issue.
#include <algorithm>
#include <thread>

#include "cli/concurrency_fixture.hpp"

namespace runctl::clitest {
namespace {

const Json kSecureRelease =
    Json::array({"SecureTaskConcurrencySlots", "ReleaseTaskConcurrencySlots"});

struct V1Case {
  ConcDb c;
  std::string p;  // [Secure, Release]
  V1Case() { p = c.policy(kSecureRelease); }
  void limit(const std::string& tag, int n) {
    c.cmd({"concurrency-limit", "create", "--tag", tag, "--limit", std::to_string(n)}, 0);
  }
  std::string pending_task(const std::string& tags) {
    return c.task({"--tags", tags, "--state", "PENDING"});
  }
  Json set(const std::string& id, const std::string& type) {
    return c.set(id, type, {"--policy", p});
  }
};

TEST_CASE(
    "SecureTaskConcurrencySlots: "
    "a full V1 tag limit makes the second task wait until the first ends") {
  V1Case t;
  t.limit("some tag", 1);
  const std::string t1 = t.pending_task("some tag"), t2 = t.pending_task("some tag");
  CHECK(status(t.set(t1, "RUNNING")) == "ACCEPT");
  CHECK(t.c.v1_slots("some tag") == 1);
  const Json wait = t.set(t2, "RUNNING");
  CHECK(status(wait) == "WAIT");
  CHECK(wait["_exit_code"] == 2);
  CHECK(reason(wait) == "Concurrency limit for the some tag tag has been reached");
  CHECK(wait["details"]["delay_seconds"] == 10);  // int(tag_concurrency_slot_wait_seconds)
  CHECK(t.c.v1_slots("some tag") == 1);
  CHECK(status(t.set(t1, "COMPLETED")) == "ACCEPT");
  CHECK(t.c.v1_slots("some tag") == 0);
  CHECK(status(t.set(t2, "RUNNING")) == "ACCEPT");
  CHECK(t.c.v1_slots("some tag") == 1);
  CHECK(t.c.v1_holds("some tag", t2));
}

TEST_CASE("ReleaseTaskConcurrencySlots: CANCELLING keeps the tag slot, CANCELLED releases it") {
  V1Case t;
  t.limit("some tag", 1);
  const std::string t1 = t.pending_task("some tag"), t2 = t.pending_task("some tag");
  CHECK(status(t.set(t1, "RUNNING")) == "ACCEPT");
  CHECK(status(t.set(t2, "RUNNING")) == "WAIT");
  CHECK(status(t.set(t1, "CANCELLING")) == "ACCEPT");
  CHECK(t.c.v1_slots("some tag") == 1);
  CHECK(status(t.set(t1, "CANCELLED")) == "ACCEPT");
  CHECK(t.c.v1_slots("some tag") == 0);
  CHECK(status(t.set(t2, "RUNNING")) == "ACCEPT");
  CHECK(t.c.v1_slots("some tag") == 1);
}

TEST_CASE("SecureTaskConcurrencySlots: a V1 limit of 0 aborts") {
  V1Case t;
  t.limit("some tag", 0);
  const Json r = t.set(t.pending_task("some tag"), "RUNNING");
  CHECK(status(r) == "ABORT");
  CHECK(reason(r) ==
        "The concurrency limit on tag \"some tag\" is 0 and will deadlock if the task tries to run "
        "again.");
  CHECK(t.c.v1_slots("some tag") == 0);
}

TEST_CASE("SecureTaskConcurrencySlots: a later rejection makes it clean up: no slot is held") {
  V1Case t;
  t.limit("some tag", 1);
  const std::string p =
      t.c.policy(Json::array({"SecureTaskConcurrencySlots", "ReleaseTaskConcurrencySlots",
                              rejector("SCHEDULED", "Mutator")}));
  const Json r = t.c.set(t.pending_task("some tag"), "RUNNING", {"--policy", p});
  CHECK(status(r) == "REJECT");
  CHECK(validated(r)["type"] == "SCHEDULED");
  CHECK(t.c.v1_slots("some tag") == 0);
}

TEST_CASE("SecureTaskConcurrencySlots: the same run entering RUNNING twice holds one slot") {
  V1Case t;
  t.limit("some tag", 10);
  const std::string id = t.pending_task("some tag");
  CHECK(status(t.set(id, "RUNNING")) == "ACCEPT");
  // Back to PENDING without any concurrency rule, so the slot stays held.
  CHECK(status(t.c.set(id, "PENDING", {"--policy", t.c.policy(Json::array())})) == "ACCEPT");
  CHECK(status(t.set(id, "RUNNING")) == "ACCEPT");
  CHECK(t.c.v1_slots("some tag") == 1);
}

TEST_CASE("SecureTaskConcurrencySlots: RUNNING -> RUNNING keeps one slot") {
  V1Case t;
  t.limit("some tag", 10);
  const std::string secure = t.c.policy(Json::array({"SecureTaskConcurrencySlots"}));
  const std::string id = t.pending_task("some tag");
  CHECK(status(t.c.set(id, "RUNNING", {"--policy", secure})) == "ACCEPT");
  CHECK(status(t.c.set(id, "RUNNING", {"--policy", secure})) == "ACCEPT");
  CHECK(t.c.v1_slots("some tag") == 1);
}

TEST_CASE("SecureTaskConcurrencySlots: a run holds a slot of each of its tags' limits") {
  V1Case t;
  t.limit("primary tag", 2);
  const std::string t1 = t.pending_task("primary tag,secondary tag");
  const std::string t2 = t.pending_task("primary tag,secondary tag");
  CHECK(status(t.set(t1, "RUNNING")) == "ACCEPT");
  t.limit("secondary tag", 1);
  CHECK(t.c.v1_slots("primary tag") == 1);
  CHECK(t.c.v1_slots("secondary tag") == 0);
  CHECK(status(t.set(t2, "RUNNING")) == "ACCEPT");
  CHECK(t.c.v1_slots("primary tag") == 2);
  CHECK(t.c.v1_slots("secondary tag") == 1);
  CHECK(status(t.set(t1, "COMPLETED")) == "ACCEPT");
  CHECK(t.c.v1_slots("primary tag") == 1);
  CHECK(t.c.v1_slots("secondary tag") == 1);
  CHECK(status(t.set(t2, "COMPLETED")) == "ACCEPT");
  CHECK(t.c.v1_slots("primary tag") == 0);
  CHECK(t.c.v1_slots("secondary tag") == 0);
}

TEST_CASE("SecureTaskConcurrencySlots: deleting the full limit lets the next task run") {
  V1Case t;
  t.limit("big limit", 2);
  t.limit("small limit", 1);
  const std::string t1 = t.pending_task("big limit,small limit");
  const std::string t2 = t.pending_task("big limit,small limit");
  const std::string t3 = t.pending_task("big limit,small limit");
  CHECK(status(t.set(t1, "RUNNING")) == "ACCEPT");
  CHECK(status(t.set(t2, "RUNNING")) == "WAIT");
  t.c.cmd({"concurrency-limit", "delete", "small limit"}, 0);
  CHECK(status(t.set(t3, "RUNNING")) == "ACCEPT");
  CHECK(t.c.v1_slots("big limit") == 2);
}

TEST_CASE("SecureTaskConcurrencySlots: raising the limit lets a second task run") {
  V1Case t;
  t.limit("some tag", 1);
  const std::string t1 = t.pending_task("some tag"), t2 = t.pending_task("some tag");
  CHECK(status(t.set(t1, "RUNNING")) == "ACCEPT");
  t.limit("some tag", 2);  // create is an upsert: the held slot is kept
  CHECK(t.c.v1_slots("some tag") == 1);
  CHECK(status(t.set(t2, "RUNNING")) == "ACCEPT");
  CHECK(t.c.v1_slots("some tag") == 2);
}

TEST_CASE("SecureTaskConcurrencySlots: lowering the limit makes a second task wait") {
  V1Case t;
  t.limit("some tag", 2);
  const std::string t1 = t.pending_task("some tag"), t2 = t.pending_task("some tag");
  CHECK(status(t.set(t1, "RUNNING")) == "ACCEPT");
  t.limit("some tag", 1);
  CHECK(status(t.set(t2, "RUNNING")) == "WAIT");
  CHECK(t.c.v1_slots("some tag") == 1);
}

TEST_CASE("ReleaseTaskConcurrencySlots: a limit lowered to 0 still lets the running task finish") {
  V1Case t;
  t.limit("some tag", 1);
  const std::string t1 = t.pending_task("some tag");
  CHECK(status(t.set(t1, "RUNNING")) == "ACCEPT");
  t.limit("some tag", 0);
  CHECK(t.c.v1_slots("some tag") == 1);
  CHECK(status(t.set(t1, "COMPLETED")) == "ACCEPT");
  CHECK(t.c.v1_slots("some tag") == 0);
}

TEST_CASE(
    "ReleaseTaskConcurrencySlots: "
    "leaving RUNNING rejected into another type releases the slot") {
  for (const bool mutator_first : {false, true}) {
    CAPTURE(mutator_first);
    V1Case t;
    t.limit("some tag", 1);
    const std::string id = t.pending_task("some tag");
    CHECK(status(t.set(id, "RUNNING")) == "ACCEPT");
    CHECK(t.c.v1_slots("some tag") == 1);
    // RUNNING -> PENDING, rejected into a type that is neither of them nor CANCELLING.
    const Json mutator = rejector("COMPLETED", "Mutator");
    const Json rules =
        mutator_first
            ? Json::array({mutator, "SecureTaskConcurrencySlots", "ReleaseTaskConcurrencySlots"})
            : Json::array({"ReleaseTaskConcurrencySlots", "SecureTaskConcurrencySlots", mutator});
    const Json r = t.c.set(id, "PENDING", {"--policy", t.c.policy(rules)});
    CHECK(status(r) == "REJECT");
    CHECK(validated(r)["type"] != "RUNNING");
    CHECK(t.c.v1_slots("some tag") == 0);
  }
}

TEST_CASE("ReleaseTaskConcurrencySlots: an aborted transition keeps the slot") {
  for (const bool aborter_first : {false, true}) {
    CAPTURE(aborter_first);
    V1Case t;
    t.limit("some tag", 1);
    const std::string id = t.pending_task("some tag");
    CHECK(status(t.set(id, "RUNNING")) == "ACCEPT");
    const Json rules =
        aborter_first
            ? Json::array({aborter(), "SecureTaskConcurrencySlots", "ReleaseTaskConcurrencySlots"})
            : Json::array({"ReleaseTaskConcurrencySlots", "SecureTaskConcurrencySlots", aborter()});
    const Json r = t.c.set(id, "PENDING", {"--policy", t.c.policy(rules)});
    CHECK(status(r) == "ABORT");
    CHECK(t.c.v1_slots("some tag") == 1);
  }
}

TEST_CASE("the core task policy takes and releases V1 tag slots") {
  ConcDb c;
  c.cmd({"concurrency-limit", "create", "--tag", "db", "--limit", "1"}, 0);
  const std::string t1 = c.task({"--tags", "db", "--state", "PENDING"});
  const std::string t2 = c.task({"--tags", "db", "--state", "PENDING"});
  const Json r1 = c.set(t1, "RUNNING");
  CHECK(status(r1) == "ACCEPT");
  CHECK(r1["policy"] == "CoreTaskPolicy");
  CHECK(std::count(r1["rule_signature"].begin(), r1["rule_signature"].end(),
                   "SecureTaskConcurrencySlots") == 1);
  CHECK(status(c.set(t2, "RUNNING")) == "WAIT");
  CHECK(status(c.set(t1, "COMPLETED")) == "ACCEPT");
  CHECK(status(c.set(t2, "RUNNING")) == "ACCEPT");
  CHECK(c.v1_holds("db", t2));
  // --force runs MinimalTaskPolicy, whose ReleaseTaskConcurrencySlots frees the slot too.
  CHECK(status(c.set(t2, "FAILED", {"--force"})) == "ACCEPT");
  CHECK(c.v1_slots("db") == 0);
}

TEST_CASE("a dry run takes no slot") {
  ConcDb c;
  c.cmd({"concurrency-limit", "create", "--tag", "db", "--limit", "1"}, 0);
  const std::string id = c.task({"--tags", "db", "--state", "PENDING"});
  CHECK(status(c.set(id, "RUNNING", {"--dry-run"})) == "ACCEPT");
  CHECK(c.v1_slots("db") == 0);
}

// The issue: N task runs with one tag limit of K race to RUNNING in N separate processes.
TEST_CASE("N processes race for K tag slots: exactly K are accepted, the rest wait") {
  constexpr int kRuns = 8, kSlots = 3;
  ConcDb c;
  c.cmd({"concurrency-limit", "create", "--tag", "race", "--limit", std::to_string(kSlots)}, 0);
  std::vector<std::string> ids;
  for (int i = 0; i < kRuns; ++i) ids.push_back(c.task({"--tags", "race", "--state", "PENDING"}));

  std::vector<ProcessResult> results(kRuns);
  std::vector<std::thread> racers;
  for (int i = 0; i < kRuns; ++i)
    racers.emplace_back([&, i] {
      // Writers queue on the database's lock; a generous busy timeout keeps any from giving up.
      results[i] = c.db.run({"--busy-timeout", "60000", "set-state", ids[i], "RUNNING", "--json"});
    });
  for (auto& t : racers) t.join();

  std::vector<std::string> accepted;
  int waited = 0;
  for (int i = 0; i < kRuns; ++i) {
    INFO("stderr: " << results[i].err);
    const Json r = Json::parse(results[i].out);
    if (r["status"] == "ACCEPT") {
      CHECK(results[i].exit_code == 0);
      accepted.push_back(ids[i]);
    } else {
      CHECK(r["status"] == "WAIT");
      CHECK(results[i].exit_code == 2);
      ++waited;
    }
  }
  CHECK(accepted.size() == static_cast<std::size_t>(kSlots));
  CHECK(waited == kRuns - kSlots);
  // The slots are exactly the accepted runs.
  CHECK(c.v1_slots("race") == kSlots);
  for (const auto& id : accepted) CHECK(c.v1_holds("race", id));
  int running = 0;
  for (const auto& id : ids) running += c.db.show(id)["state_type"] == "RUNNING";
  CHECK(running == kSlots);
}

}  // namespace
}  // namespace runctl::clitest
