// The caching rules (lib/rules/caching.cpp) at engine level, with a fake store holding the cache,
// after Prefect's TestCachingBackendLogic (tests/server/orchestration/test_core_policy.py).
#include <doctest/doctest.h>

#include <stdexcept>

#include "rule_services_fixture.hpp"

namespace runctl::testing {
namespace {

const std::vector<std::string> kCaching = {"CacheInsertion", "CacheRetrieval"};

void set_cache_details(RuleHarness& h, std::optional<Timestamp> expiration,
                       const std::string& key = "cache-hit") {
  for (const StatePtr& s : {h.ctx.initial_state, h.ctx.proposed_state}) {
    s->details->cache_key = key;
    s->details->cache_expiration = expiration;
  }
  h.services->states[h.ctx.initial_state->id] = h.ctx.initial_state->deep_copy();
}

TEST_CASE("caching rules are registered with Prefect's FROM/TO states and scope") {
  CHECK(builtin_info("CacheRetrieval").from_states == StateTypeSet::all());
  CHECK(builtin_info("CacheRetrieval").to_states == StateTypeSet{kRunning});
  CHECK(builtin_info("CacheInsertion").from_states == StateTypeSet::all());
  CHECK(builtin_info("CacheInsertion").to_states == StateTypeSet{kCompleted});
  CHECK(find_builtin_entry("CacheRetrieval")->scope == RunScope::kTask);
  CHECK(find_builtin_entry("CacheInsertion")->scope == RunScope::kTask);
}

TEST_CASE("CacheInsertion and CacheRetrieval: set and retrieve unexpired cached states") {
  struct Case {
    const char* label;
    std::optional<Timestamp> expiration;
    const char* status;
    const char* name;
  };
  const Case cases[] = {{"past", kNow - kDay, "ACCEPT", "Running"},
                        {"future", kNow + kDay, "REJECT", "Cached"},
                        {"null", std::nullopt, "REJECT", "Cached"}};
  for (const Case& c : cases) {
    CAPTURE(c.label);
    auto store = std::make_shared<RuleFakeServices>();
    RuleHarness first(kRunning, kCompleted, RunKind::kTask, store);
    set_cache_details(first, c.expiration);
    first.run_rules(kCaching);
    CHECK(first.status() == "ACCEPT");
    REQUIRE(store->cache.size() == 1);
    CHECK(store->cache[0].key == "cache-hit");
    CHECK(store->cache[0].expiration == c.expiration);
    CHECK(store->cache[0].state_id == first.ctx.validated_state->id);
    CHECK(store->cache[0].created == kNow);

    RuleHarness second(kPending, kRunning, RunKind::kTask, store);
    set_cache_details(second, c.expiration);
    second.run_rules(kCaching);
    CHECK(second.status() == c.status);
    CHECK(second.ctx.validated_state->name == c.name);
    CHECK(store->cache.size() == 1);  // a hit writes no new entry
  }
}

TEST_CASE("CacheRetrieval: a hit is a fresh copy of the cached state named Cached") {
  auto store = std::make_shared<RuleFakeServices>();
  RuleHarness first(kRunning, kCompleted, RunKind::kTask, store);
  set_cache_details(first, std::nullopt);
  first.ctx.proposed_state->message = "all good";
  first.ctx.proposed_state->data = std::make_shared<Json>(Json{{"storage_key", "abc"}});
  first.ctx.proposed_state->details->task_run_id = first.run.id;
  first.run_rules(kCaching);
  const State cached = first.ctx.validated_state->deep_copy();

  RuleHarness second(kPending, kRunning, RunKind::kTask, store, kNow + kMinute);
  second.ctx.proposed_state->details->cache_key = "cache-hit";
  second.run_rules(kCaching);
  CHECK(second.status() == "REJECT");
  CHECK(second.reason() == "Retrieved state from cache");
  const StatePtr& hit = second.ctx.validated_state;
  REQUIRE(hit != nullptr);
  CHECK(name_of(hit) == "COMPLETED");
  CHECK(hit->name == "Cached");
  CHECK(hit->id != cached.id);
  CHECK(hit->id != second.ctx.initial_state->id);
  CHECK(hit->timestamp == kNow + kMinute);
  CHECK(hit->message == "all good");
  REQUIRE(hit->data);
  CHECK(*hit->data == Json{{"storage_key", "abc"}});
  // The details are the cached state's, including the original run's id.
  CHECK(*hit->details == *cached.details);
  CHECK(hit->details->task_run_id == first.run.id);
  // Only the RUNNING proposal looks the key up (CacheRetrieval is not compiled for COMPLETED).
  REQUIRE(store->cache_lookups.size() == 1);
  CHECK(store->cache_lookups[0] == std::make_pair(std::string("cache-hit"), kNow + kMinute));
  // Rejected into COMPLETED: CacheRetrieval (TO = {RUNNING}) is invalid on exit; CacheInsertion
  // was not compiled for the intended PENDING -> RUNNING.
  CHECK(second.ctx.rule_signature == std::vector<std::string>{"CacheRetrieval"});
  CHECK(second.ctx.finalization_signature.empty());
}

TEST_CASE("CacheRetrieval: the newest entry for the key wins") {
  auto store = std::make_shared<RuleFakeServices>();
  for (const char* message : {"older", "newer"}) {
    RuleHarness h(kRunning, kCompleted, RunKind::kTask, store);
    set_cache_details(h, std::nullopt);
    h.ctx.proposed_state->message = message;
    h.run_rules(kCaching);
  }
  RuleHarness h(kPending, kRunning, RunKind::kTask, store);
  h.ctx.proposed_state->details->cache_key = "cache-hit";
  h.run_rules(kCaching);
  CHECK(h.ctx.validated_state->message == "newer");
}

TEST_CASE("CacheRetrieval: refresh_cache skips the lookup") {
  auto store = std::make_shared<RuleFakeServices>();
  RuleHarness first(kRunning, kCompleted, RunKind::kTask, store);
  set_cache_details(first, std::nullopt);
  first.run_rules(kCaching);
  RuleHarness second(kPending, kRunning, RunKind::kTask, store);
  second.ctx.proposed_state->details->cache_key = "cache-hit";
  second.ctx.proposed_state->details->refresh_cache = true;
  second.run_rules(kCaching);
  CHECK(second.status() == "ACCEPT");
  CHECK(second.ctx.validated_state->name == "Running");
  CHECK(store->cache_lookups.empty());
  // refresh_cache false behaves as unset.
  RuleHarness third(kPending, kRunning, RunKind::kTask, store);
  third.ctx.proposed_state->details->cache_key = "cache-hit";
  third.ctx.proposed_state->details->refresh_cache = false;
  third.run_rules(kCaching);
  CHECK(third.status() == "REJECT");
}

TEST_CASE("CacheRetrieval: no key or an empty key, no lookup") {
  for (std::optional<std::string> key :
       {std::optional<std::string>(), std::optional<std::string>("")}) {
    RuleHarness h(kPending, kRunning);
    h.ctx.proposed_state->details->cache_key = key;
    h.run_rules({"CacheRetrieval"});
    CHECK(h.status() == "ACCEPT");
    CHECK(h.services->cache_lookups.empty());
  }
}

TEST_CASE("CacheRetrieval: a miss accepts and stays valid") {
  RuleHarness h(std::nullopt, kRunning);
  h.ctx.proposed_state->details->cache_key = "nothing-here";
  h.run_rules({"CacheRetrieval"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.services->cache_lookups.size() == 1);
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"CacheRetrieval"});
}

TEST_CASE("CacheInsertion requires a validated state (an error before validation escapes)") {
  RuleHarness h(kRunning, kCompleted);
  set_cache_details(h, kNow - kDay);
  auto raiser = make_transform("Raiser");
  raiser->on_before = [](Context&) { throw std::invalid_argument("this better be mine"); };
  ChainOutcome out = orchestrate({builtin("CacheInsertion")}, {entry(raiser)}, h.ctx);
  REQUIRE(out.escaped);
  CHECK(message_of(out.escaped) == "this better be mine");
  CHECK(h.ctx.validated_state == nullptr);
  CHECK(h.services->cache.empty());
  // Its after hook ran (the transition was not changed) and tolerated the missing state.
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"CacheInsertion"});
}

TEST_CASE("CacheInsertion: only COMPLETED states are cached") {
  for (StateType proposed : all_types()) {
    if (proposed == kCompleted) continue;
    CAPTURE(name_of(proposed));
    auto store = std::make_shared<RuleFakeServices>();
    RuleHarness first(kRunning, proposed, RunKind::kTask, store);
    set_cache_details(first, std::nullopt);
    first.run_rules(kCaching);
    CHECK(first.status() == "ACCEPT");
    CHECK(store->cache.empty());
    RuleHarness second(kPending, kRunning, RunKind::kTask, store);
    set_cache_details(second, std::nullopt);
    second.run_rules(kCaching);
    CHECK(second.status() == "ACCEPT");
    CHECK(second.ctx.validated_state->name == "Running");
  }
}

TEST_CASE("CacheInsertion: a key longer than the limit is rejected into the same proposal") {
  RuleHarness h(kRunning, kCompleted);
  const std::string key(2001, 'k');
  h.ctx.proposed_state->details->cache_key = key;
  h.ctx.proposed_state->details->cache_expiration = kNow + kDay;
  const std::string proposal_id = h.ctx.proposed_state->id;
  h.run_rules({"CacheInsertion"});
  CHECK(h.status() == "REJECT");
  CHECK(h.reason() == "Cache key exceeded maximum allowed length of 2000 characters.");
  // Quirk: the COMPLETED proposal is still written and still cached.
  REQUIRE(h.ctx.validated_state != nullptr);
  CHECK(h.ctx.validated_state->id == proposal_id);
  CHECK(name_of(h.ctx.validated_state) == "COMPLETED");
  CHECK(h.ctx.finalization_signature == std::vector<std::string>{"CacheInsertion"});
  REQUIRE(h.services->cache.size() == 1);
  CHECK(h.services->cache[0].key == key);
  CHECK(h.services->cache[0].expiration == kNow + kDay);
}

TEST_CASE("CacheInsertion: a key at the limit is accepted, the limit is a setting") {
  RuleHarness h(kRunning, kCompleted);
  h.ctx.proposed_state->details->cache_key = std::string(2000, 'k');
  h.run_rules({"CacheInsertion"});
  CHECK(h.status() == "ACCEPT");
  CHECK(h.services->cache.size() == 1);

  RuleHarness small(kRunning, kCompleted);
  small.services->mutable_settings().max_cache_key_length = 5;
  small.ctx.proposed_state->details->cache_key = "abcdef";
  small.run_rules({"CacheInsertion"});
  CHECK(small.status() == "REJECT");
  CHECK(small.reason() == "Cache key exceeded maximum allowed length of 5 characters.");
}

TEST_CASE("CacheInsertion counts characters as Python does (code points, not bytes)") {
  RuleHarness h(kRunning, kCompleted);
  h.services->mutable_settings().max_cache_key_length = 3;
  h.ctx.proposed_state->details->cache_key = "\xc3\xa9\xc3\xa9\xc3\xa9";  // "ééé": 6 bytes
  h.run_rules({"CacheInsertion"});
  CHECK(h.status() == "ACCEPT");

  RuleHarness over(kRunning, kCompleted);
  over.services->mutable_settings().max_cache_key_length = 3;
  over.ctx.proposed_state->details->cache_key = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
  over.run_rules({"CacheInsertion"});
  CHECK(over.status() == "REJECT");
}

TEST_CASE("CacheInsertion: no key, no entry") {
  for (std::optional<std::string> key :
       {std::optional<std::string>(), std::optional<std::string>("")}) {
    RuleHarness h(kRunning, kCompleted);
    h.ctx.proposed_state->details->cache_key = key;
    h.run_rules({"CacheInsertion"});
    CHECK(h.status() == "ACCEPT");
    CHECK(h.services->cache.empty());
  }
}

TEST_CASE("CacheInsertion: fizzled by a later rule, it caches nothing") {
  RuleHarness h(kRunning, kCompleted);
  h.ctx.proposed_state->details->cache_key = "k";
  auto mutator = make_rule("Mutator");
  mutator->on_before = [](RuleHook& hook) {
    StateProposal p;
    p.type = StateType::kFailed;
    hook.reject_transition(hook.new_state(p), "nope");
  };
  h.run_rules({"CacheInsertion"}, {entry(mutator)});
  CHECK(h.status() == "REJECT");
  CHECK(name_of(h.ctx.validated_state) == "FAILED");
  CHECK(h.services->cache.empty());
}

TEST_CASE("CacheInsertion: a same-type rejection by a later rule is cached (the key it carries)") {
  RuleHarness h(kRunning, kCompleted);
  h.ctx.proposed_state->details->cache_key = "original";
  auto mutator = make_rule("SameType");
  mutator->on_before = [](RuleHook& hook) {
    StateProposal p;
    p.type = StateType::kCompleted;
    p.details.cache_key = "replacement";
    hook.reject_transition(hook.new_state(p), "same type");
  };
  h.run_rules({"CacheInsertion"}, {entry(mutator)});
  REQUIRE(h.services->cache.size() == 1);
  CHECK(h.services->cache[0].key == "replacement");
  CHECK(h.services->cache[0].state_id == h.ctx.validated_state->id);
}

}  // namespace
}  // namespace runctl::testing
