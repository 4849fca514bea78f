// End to end through the runctl binary: CacheInsertion and CacheRetrieval, after Prefect's
// TestCachingBackendLogic (tests/server/orchestration/test_core_policy.py), and the key-length
// quirk of CacheInsertion.
// The rules' own cases are tests/unit/rules_caching_test.cpp; here are one wiring case and what the
// CLI and the store add (default policies, exit codes, what is written and read back).
#include <doctest/doctest.h>

#include "policy_fixture.hpp"

namespace runctl::clitest {
namespace {

const std::string kCreated = "2026-01-01T11:59:50+00:00";
const std::string kNow = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:10+00:00";
const std::string kYesterday = "2025-12-31T12:00:00+00:00";
const std::string kTomorrow = "2026-01-02T12:00:00+00:00";

std::string create_at(const CliDb& db, const std::string& kind, std::vector<std::string> extra) {
  return create_run_at(db, kCreated, kind, std::move(extra));
}

// Prefect's caching test chain: [CacheInsertion, CacheRetrieval], no transforms.
std::string caching(const CliDb& db) {
  return db.policy(Json{{"rules", Json::array({"CacheInsertion", "CacheRetrieval"})},
                        {"transforms", Json::array()}},
                   "caching.json");
}

// --cache-key KEY [--cache-expiration E] for both the initial state and the proposal.
std::vector<std::string> cache_flags(const std::string& key, const std::string& expiration) {
  std::vector<std::string> out{"--cache-key", key};
  if (!expiration.empty()) out.insert(out.end(), {"--cache-expiration", expiration});
  return out;
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The state the cache holds for `key` at `when` (the newest entry not expired then), or "" for
// none: the repository's own lookup, which CacheRetrieval makes. Looked up at kLongAgo, an entry
// is found whatever its expiration.
const std::string kLongAgo = "2000-01-01T00:00:00+00:00";
std::string cached_state_id(const CliDb& db, const std::string& key,
                            const std::string& when = kLongAgo) {
  const StatePtr state = db.open(OpenMode::kRead)->runs().find_cached_state(key, timestamp(when));
  return state ? state->id : "";
}

TEST_CASE("caching wiring: CacheRetrieval turns a hit into a fresh copy named Cached") {
  CliDb db;
  const std::string first = create_at(db, "task", {"--state", "RUNNING"});
  Json done = set_state_at(db, kNow, first, "COMPLETED",
                           {"--cache-key", "k", "--message", "all good", "--data",
                            R"({"storage_key": "s3://results/1"})", "--policy", caching(db)});
  REQUIRE(done["_exit_code"] == 0);
  const std::string second = create_at(db, "task", {"--state", "PENDING"});
  Json out =
      set_state_at(db, kLater, second, "RUNNING", {"--cache-key", "k", "--policy", caching(db)});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["status"] == "REJECT");
  CHECK(reason(out) == "Retrieved state from cache");
  CHECK(out["rule_signature"] == Json::array({"CacheRetrieval"}));
  CHECK(out["finalization_signature"] == Json::array());
  const Json& hit = out["validated_state"];
  CHECK(state_type(hit) == "COMPLETED");
  CHECK(hit["name"] == "Cached");
  CHECK(hit["id"] != done["validated_state"]["id"]);
  CHECK(hit["timestamp"] == "2026-01-01T12:00:10.000000+00:00");
  CHECK(hit["message"] == "all good");
  CHECK(hit["data"] == Json{{"storage_key", "s3://results/1"}});
  CHECK(hit["state_details"]["cache_key"] == "k");
  Json run = db.show(second);
  CHECK(run["state"]["name"] == "Cached");
  CHECK(run["state"]["data"] == Json{{"storage_key", "s3://results/1"}});
}

TEST_CASE("CacheRetrieval in the default task policy: the hit skips RUNNING entirely") {
  CliDb db;
  const std::string first = create_at(db, "task", {"--state", "RUNNING"});
  const Json done = set_state_at(db, kNow, first, "COMPLETED", {"--cache-key", "k"});
  REQUIRE(done["_exit_code"] == 0);
  CHECK(cached_state_id(db, "k") == done["validated_state"]["id"]);
  const std::string second = create_at(db, "task", {"--state", "PENDING"});
  Json out = set_state_at(db, kLater, second, "RUNNING", {"--cache-key", "k"});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["validated_state"]["name"] == "Cached");
  Json run = db.show(second);
  CHECK(run["state_type"] == "COMPLETED");
  CHECK(run["state_name"] == "Cached");
  CHECK(run["run_count"] == 0);  // never entered RUNNING
  // UpdateStateDetails re-points the copied details at this run.
  CHECK(run["state"]["state_details"]["task_run_id"] == second);
  // A hit does not cache itself again: the newest entry is still the first run's state.
  CHECK(cached_state_id(db, "k") == done["validated_state"]["id"]);
}

TEST_CASE("CacheInsertion requires a validated state (an error before validation escapes)") {
  CliDb db;
  const std::string id =
      create_at(db, "task", plus({"--state", "RUNNING"}, cache_flags("cache-hit", kYesterday)));
  const std::string policy = db.policy(Json{
      {"rules", Json::array({"CacheInsertion"})},
      {"transforms",
       Json::array({Json{{"name", "Raiser"},
                         {"before", Json::array({Json{{"fail", "this better be mine"}}})}}})}});
  Json out = set_state_at(db, kNow, id, "COMPLETED",
                          plus(cache_flags("cache-hit", kYesterday), {"--policy", policy}));
  CHECK(out["_exit_code"] == 70);
  CHECK(out["error"].get<std::string>().find("this better be mine") != std::string::npos);
  CHECK(cached_state_id(db, "cache-hit") == "");
  CHECK(state_type(db.show(id)["state"]) == "RUNNING");
}

TEST_CASE("CacheInsertion: a key over max_cache_key_length is rejected, yet written and cached") {
  CliDb db;
  const std::string id = create_at(db, "task", {"--state", "RUNNING"});
  const std::string key(2001, 'k');
  Json out = set_state_at(db, kNow, id, "COMPLETED", {"--cache-key", key, "--policy", caching(db)});
  CHECK(out["_exit_code"] == 1);
  CHECK(out["status"] == "REJECT");
  CHECK(reason(out) == "Cache key exceeded maximum allowed length of 2000 characters.");
  CHECK(state_type(out["validated_state"]) == "COMPLETED");
  CHECK(out["validated_state"]["id"] == out["proposed_state"]["id"]);
  CHECK(out["finalization_signature"] == Json::array({"CacheInsertion"}));
  CHECK(state_type(db.show(id)["state"]) == "COMPLETED");
  // Cached under the whole key, not a shortened one.
  CHECK(cached_state_id(db, key) == out["validated_state"]["id"]);
  CHECK(cached_state_id(db, std::string(2000, 'k')) == "");
  // A key of exactly the limit is accepted.
  const std::string other = create_at(db, "task", {"--state", "RUNNING"});
  out = set_state_at(db, kNow, other, "COMPLETED",
                     {"--cache-key", std::string(2000, 'k'), "--policy", caching(db)});
  CHECK(out["_exit_code"] == 0);
}

TEST_CASE("CacheInsertion: the entry carries the state's cache expiration") {
  CliDb db;
  const std::string id = create_at(db, "task", {"--state", "RUNNING"});
  Json out =
      set_state_at(db, kNow, id, "COMPLETED",
                   {"--cache-key", "k", "--cache-expiration", kTomorrow, "--policy", caching(db)});
  CHECK(out["_exit_code"] == 0);
  // Found up to the expiration's last microsecond, not at it.
  CHECK(cached_state_id(db, "k", "2026-01-02T11:59:59.999999+00:00") ==
        out["validated_state"]["id"]);
  CHECK(cached_state_id(db, "k", "2026-01-02T12:00:00+00:00") == "");
  // Expired at lookup time: a run one day and one second later misses.
  const std::string late = create_at(db, "task", {"--state", "PENDING"});
  out = set_state_at(db, "2026-01-02T12:00:01+00:00", late, "RUNNING",
                     {"--cache-key", "k", "--policy", caching(db)});
  CHECK(out["_exit_code"] == 0);
}

}  // namespace
}  // namespace runctl::clitest
