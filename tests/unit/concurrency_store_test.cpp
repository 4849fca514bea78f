// ConcurrencyRepository: the V2 slot arithmetic of Prefect's models.concurrency_limits_v2 (decay,
// all-or-nothing increment, clamped decrement), V1 sets, leases and their reaping, deployments
// and events.
#include "store/sqlite/sqlite_database.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <SQLiteCpp/Database.h>
#include <filesystem>

#include "util/error.hpp"

namespace runctl {
namespace {

constexpr Timestamp kT0 = 1'767'268'800LL * kMicrosPerSecond;  // 2026-01-01T12:00:00Z
constexpr Timestamp kSecond = kMicrosPerSecond;

// A migrated database in a fresh directory, removed afterwards.
struct Db {
  std::string dir;
  std::unique_ptr<Database> store;
  ConcurrencyRepository* limits = nullptr;
  Db() {
    char pattern[] = "/tmp/runctl_conc_test_XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    dir = pattern;
    store = open_database(dir + "/c.db", OpenMode::kCreate);
    limits = &store->concurrency();
  }
  ~Db() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  V2Limit v2(const std::string& id, std::int64_t limit, std::int64_t active = 0, double decay = 0,
             bool is_active = true) {
    V2Limit l;
    l.id = id;
    l.name = "limit-" + id;
    l.limit = limit;
    l.active = is_active;
    l.active_slots = active;
    l.slot_decay_per_second = decay;
    l.created = l.updated = kT0;
    limits->insert_v2_limit(l);
    return l;
  }
  std::int64_t active(const std::string& id) { return limits->v2_limit_by_id(id)->active_slots; }

  Lease lease(const std::string& id, std::vector<std::string> resources, Timestamp expiration,
              std::int64_t slots = 1, std::optional<LeaseHolder> holder = std::nullopt) {
    Lease l;
    l.id = id;
    l.resource_ids = std::move(resources);
    l.created_at = kT0;
    l.expiration = expiration;
    l.slots = slots;
    l.holder = std::move(holder);
    limits->insert_lease(l);
    return l;
  }
};

TEST_CASE("increment: only active limits with room, all or nothing") {
  Db db;
  db.v2("a", 2);
  db.v2("b", 1, 1);
  db.v2("off", 5, 0, 0, false);
  CHECK(db.limits->increment({"a"}, 1, kT0));
  CHECK(db.active("a") == 1);
  CHECK_FALSE(db.limits->increment({"a", "b"}, 1, kT0));  // b is full: a is not touched either
  CHECK(db.active("a") == 1);
  CHECK_FALSE(db.limits->increment({"off"}, 1, kT0));  // inactive
  CHECK_FALSE(db.limits->increment({"missing"}, 1, kT0));
  CHECK_FALSE(db.limits->increment({"a", "a"}, 1, kT0));  // a duplicate id never matches twice
  CHECK(db.active("a") == 1);
  CHECK(db.limits->increment({"a"}, 1, kT0));
  CHECK_FALSE(db.limits->increment({"a"}, 1, kT0));
  CHECK(db.active("a") == 2);
}

TEST_CASE("decrement: clamped at 0, fails for missing or inactive limits") {
  Db db;
  db.v2("a", 2, 1);
  db.v2("off", 2, 1, 0, false);
  CHECK(db.limits->decrement({"a"}, 5, kT0));
  CHECK(db.active("a") == 0);
  CHECK(db.limits->decrement({"a"}, 1, kT0));  // already 0: still a success
  CHECK_FALSE(db.limits->decrement({"off"}, 1, kT0));
  CHECK(db.active("off") == 1);
  CHECK_FALSE(db.limits->decrement({"a", "missing"}, 1, kT0));
}

TEST_CASE("decay: floor(slot_decay_per_second * seconds since updated)") {
  Db db;
  db.v2("d", 2, 2, 0.5);
  CHECK_FALSE(db.limits->increment({"d"}, 1, kT0 + 1 * kSecond));  // floor(0.5) = 0
  CHECK(db.limits->increment({"d"}, 1, kT0 + 3 * kSecond));        // floor(1.5) = 1: 2 - 1 + 1
  CHECK(db.active("d") == 2);
  CHECK(db.limits->v2_limit_by_id("d")->updated == kT0 + 3 * kSecond);
  // A clock before `updated` decays nothing (and adds nothing).
  CHECK_FALSE(db.limits->increment({"d"}, 1, kT0));
  CHECK(db.limits->decrement({"d"}, 0, kT0 + 103 * kSecond));  // decays to max(0, 2 - 50)
  CHECK(db.active("d") == 0);
}

TEST_CASE("denied slots decay by 1/avg occupancy when there is no slot decay") {
  Db db;
  V2Limit l = db.v2("x", 5);
  l.denied_slots = 10;
  l.avg_slot_occupancy_seconds = 2.0;
  db.limits->update_v2_limit(l);
  CHECK(db.limits->increment({"x"}, 1, kT0 + 7 * kSecond));  // floor(7 / 2) = 3
  CHECK(db.limits->v2_limit_by_id("x")->denied_slots == 7);
}

TEST_CASE("the reaper revokes expired leases, frees their slots, updates the occupancy") {
  Db db;
  db.v2("a", 2, 2);
  db.v2("b", 1, 1);
  db.lease("old", {"a", "b"}, kT0 + 10 * kSecond, 1, LeaseHolder{"task_run", "r"});
  db.lease("live", {"a"}, kT0 + 100 * kSecond);
  CHECK(db.limits->expired_leases(kT0 + 10 * kSecond).empty());  // expiration < now, strictly
  const std::vector<std::string> only_b{"b"};
  const auto reaped = db.limits->reap_expired_leases(kT0 + 20 * kSecond, &only_b);
  REQUIRE(reaped.size() == 1);
  CHECK(reaped[0].id == "old");
  CHECK_FALSE(db.limits->read_lease("old"));
  CHECK(db.limits->read_lease("live"));
  CHECK(db.active("a") == 1);
  CHECK(db.active("b") == 0);
  // avg + max(20 / 1, 0.1) / (limit * 2) - avg / (limit * 2)
  CHECK(db.limits->v2_limit_by_id("a")->avg_slot_occupancy_seconds == doctest::Approx(6.5));
  CHECK(db.limits->v2_limit_by_id("b")->avg_slot_occupancy_seconds == doctest::Approx(11.0));
}

TEST_CASE("reaping a lease of a deleted limit just drops it") {
  Db db;
  db.lease("orphan", {"gone"}, kT0);
  CHECK(db.limits->reap_expired_leases(kT0 + kSecond).size() == 1);
  CHECK(db.limits->list_leases().empty());
}

TEST_CASE("leases keep their resource order, holder and origin") {
  Db db;
  Lease l;
  l.id = "l1";
  l.resource_ids = {"z", "a", "m"};
  l.created_at = kT0;
  l.expiration = kT0 + 300 * kSecond;
  l.slots = 2;
  l.holder = LeaseHolder{"flow_run", "run-1"};
  l.origin_run_id = "run-1";
  db.limits->insert_lease(l);
  const auto read = db.limits->read_lease("l1");
  REQUIRE(read);
  CHECK(read->resource_ids == std::vector<std::string>{"z", "a", "m"});
  CHECK(read->slots == 2);
  CHECK(read->holder->type == "flow_run");
  CHECK(read->origin_run_id == "run-1");
  CHECK(db.limits->leases_for_limit("a").size() == 1);
  CHECK(db.limits->set_lease_expiration("l1", kT0));
  CHECK(db.limits->read_lease("l1")->expiration == kT0);
  CHECK(db.limits->delete_lease("l1"));
  CHECK_FALSE(db.limits->delete_lease("l1"));
  CHECK(db.limits->leases_for_limit("a").empty());  // resources go with the lease
}

TEST_CASE("V1 limits: upsert keeps the slots, the slots are a sorted set") {
  Db db;
  const V1Limit a = db.limits->upsert_v1_limit("id-1", "db", 2, kT0);
  CHECK(db.limits->set_v1_active_slots("db", {"r2", "r1", "r2"}, kT0));
  const V1Limit b = db.limits->upsert_v1_limit("id-2", "db", 5, kT0 + kSecond);
  CHECK(b.id == a.id);
  CHECK(b.limit == 5);
  CHECK(b.active_slots == std::vector<std::string>{"r1", "r2"});
  db.limits->upsert_v1_limit("id-3", "api", 1, kT0);
  const auto both = db.limits->v1_limits_for_tags({"db", "api", "other"});
  REQUIRE(both.size() == 2);
  CHECK(both[0].tag == "api");  // ordered by tag
  CHECK_FALSE(db.limits->set_v1_active_slots("other", {}, kT0));
  CHECK(db.limits->delete_v1_limit("db"));
  CHECK_FALSE(db.limits->v1_limit_by_tag("db"));
}

TEST_CASE("V2 names are unique, lookups by names are ordered by name") {
  Db db;
  db.v2("1", 1);
  V2Limit dup;
  dup.id = "2";
  dup.name = "limit-1";
  dup.created = dup.updated = kT0;
  try {
    db.limits->insert_v2_limit(dup);
    FAIL("a taken name must be refused");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kBadData);
  }
  db.v2("3", 1);
  const auto found = db.limits->v2_limits_by_names({"limit-3", "limit-1", "nope"});
  REQUIRE(found.size() == 2);
  CHECK(found[0].name == "limit-1");
}

TEST_CASE("deployments: options round-trip, the limit relation is cleared with the limit") {
  Db db;
  const FlowInfo flow = db.limits->ensure_flow("f1", "etl", kT0);
  CHECK(db.limits->ensure_flow("f2", "etl", kT0).id == flow.id);
  db.v2("lim", 1);
  Deployment d;
  d.id = "d1";
  d.name = "nightly";
  d.flow_id = flow.id;
  d.tags = {"x"};
  d.concurrency_limit_id = "lim";
  d.concurrency_options = ConcurrencyOptions{CollisionStrategy::kCancelNew, 600};
  d.created = kT0;
  db.limits->insert_deployment(d);
  auto read = db.limits->read_deployment("d1");
  REQUIRE(read);
  CHECK(read->concurrency_options->collision_strategy == CollisionStrategy::kCancelNew);
  CHECK(read->concurrency_options->grace_period_seconds == 600);
  CHECK(read->tags == std::vector<std::string>{"x"});
  db.limits->delete_v2_limit("lim");
  CHECK_FALSE(db.limits->read_deployment("d1")->concurrency_limit_id);
}

TEST_CASE("events: written with their log rows, in order, filtered by resource, paged by seq") {
  Db db;
  for (int i = 0; i < 4; ++i) {
    LogEntry entry;
    entry.run_id = i == 1 ? "b" : "a";
    entry.at = kT0 + i;
    entry.status = "ACCEPT";
    entry.details = Json::object();
    entry.policy = "CoreFlowPolicy";
    if (i != 3) {  // a row without an event (a task run's, a rejection's) lists nothing
      entry.validated_state_id = "e" + std::to_string(i);
      Event e;
      e.occurred = kT0 + i;
      e.event = "prefect.flow-run.Running";
      e.resource = Json{{"prefect.resource.id", "prefect.flow-run." + entry.run_id}}.dump();
      e.follows = i == 2 ? std::optional<std::string>("e0") : std::nullopt;
      entry.event = e;
    }
    db.store->runs().insert_log(entry);
  }
  const auto all = db.limits->list_events(std::nullopt);
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == "e0");
  CHECK(all[2].id == "e2");
  CHECK(all[2].resource_id == "prefect.flow-run.a");
  CHECK(all[2].occurred == kT0 + 2);
  CHECK(all[2].follows == "e0");
  CHECK(all[1].resource == Json{{"prefect.resource.id", "prefect.flow-run.b"}}.dump());
  const auto a = db.limits->list_events(std::string("prefect.flow-run.a"));
  REQUIRE(a.size() == 2);
  CHECK(a[1].id == "e2");
  CHECK(db.limits->list_events(std::string("prefect.deployment.a")).empty());
  const auto after = db.limits->list_events(std::nullopt, all[0].seq, 1);
  REQUIRE(after.size() == 1);
  CHECK(after[0].id == "e1");
}

}  // namespace
}  // namespace runctl
