// The task-run result cache: Prefect's CacheRetrieval and CacheInsertion.
#include <string>

#include "rules/families.hpp"

namespace runctl {
namespace {

// Python's len() of a str: code points, not UTF-8 bytes.
std::size_t code_points(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

class CacheRetrieval final : public Rule {
 public:
  CacheRetrieval()
      : Rule({
            .name = "CacheRetrieval",
            .run_kind = RunScope::kTask,
            .from_states = StateTypeSet::all(),
            .to_states = {StateType::kRunning},
            .description =
                "rejects a RUNNING proposal with a cache key into a fresh copy (named Cached) of "
                "the newest unexpired cached state",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* proposed = hook.state_view();
    if (!proposed) return;
    const auto& key = proposed->details->cache_key;
    if (!key || key->empty() || proposed->details->refresh_cache.value_or(false)) return;
    const StatePtr cached = hook.services()->find_cached_state(*key, hook.now());
    if (!cached) return;
    // Prefect's fresh_copy(): everything copied except a new id and timestamp; the details keep
    // the original run's ids until UpdateStateDetails overwrites them.
    StateProposal p;
    p.type = cached->type;
    StatePtr copy = hook.new_state(p);
    copy->name = "Cached";
    copy->message = cached->message;
    *copy->details = *cached->details;
    copy->data = cached->data ? std::make_shared<Json>(*cached->data) : nullptr;
    hook.reject_transition(copy, "Retrieved state from cache");
  }
};

class CacheInsertion final : public Rule {
 public:
  CacheInsertion()
      : Rule({
            .name = "CacheInsertion",
            .run_kind = RunScope::kTask,
            .from_states = StateTypeSet::all(),
            .to_states = {StateType::kCompleted},
            .description =
                "records a validated COMPLETED state with a cache key in the cache; rejects "
                "(keeping the proposal) a key longer than max_cache_key_length",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* proposed = hook.state_view();
    if (!proposed) return;
    const auto& key = proposed->details->cache_key;
    const std::size_t max_length = hook.services()->settings().max_cache_key_length;
    if (key && !key->empty() && code_points(*key) > max_length) {
      // Quirk kept from Prefect: the rejection re-proposes the same COMPLETED state, so it is
      // still written, the rule stays valid, and after_transition still caches the long key.
      hook.reject_transition(hook.context().proposed_state,
                             "Cache key exceeded maximum allowed length of " +
                                 std::to_string(max_length) + " characters.");
    }
  }

  void after_transition(RuleHook& hook) const override {
    const State* validated = hook.state_view();
    if (!validated) return;
    const auto& key = validated->details->cache_key;
    if (!key || key->empty()) return;
    hook.services()->insert_cache_entry(*key, validated->details->cache_expiration, validated->id,
                                        hook.now());
  }
};

}  // namespace

void add_caching_rules(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_rule<CacheRetrieval>());
  out.push_back(builtin_rule<CacheInsertion>());
}

}  // namespace runctl
