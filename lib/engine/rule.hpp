// Orchestration rules and universal transforms (spec §3.3–3.6).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/context.hpp"
#include "engine/state_type.hpp"

namespace runctl {

enum class EntryKind { kRule, kTransform };

// A rule's identity card: what `runctl rules` prints and what the chain runner checks.
struct RuleInfo {
  std::string name;  // Prefect's class name; signatures carry it
  StateTypeSet from_states;
  StateTypeSet to_states;
  std::string description;
};

enum class HookName { kBefore, kAfter, kCleanup };
std::string_view hook_name(HookName h);

// The mutable part of one rule instance: Prefect's from_state_type / to_state_type /
// invalid_on_entry. Built from the intended transition, edited by the helpers.
struct RuleInstanceState {
  MaybeType from_type;
  MaybeType to_type;
  std::optional<bool> invalid_on_entry;
};

// What a rule hook sees and may do. The states and parameters are copies (ContextCopy); the
// helpers act on the real context, with Prefect's guards and error texts (spec §3.5).
class RuleHook {
 public:
  RuleHook(Context& real, RuleInstanceState& self, ContextCopy& copy, HookName hook,
           std::string_view rule_name)
      : real_(real), self_(self), copy_(copy), hook_(hook), rule_name_(rule_name) {}

  ContextCopy& context() { return copy_; }
  const StatePtr& initial_state() const { return copy_.initial_state; }
  // The proposed state in before_transition, the validated state in after/cleanup.
  const StatePtr& state() const {
    return hook_ == HookName::kBefore ? copy_.proposed_state : copy_.validated_state;
  }
  HookName hook() const { return hook_; }
  std::string_view rule_name() const { return rule_name_; }

  // Replace the proposal with `state` (a null pointer: write nothing and keep the current state).
  void reject_transition(StatePtr state, std::optional<std::string> reason);
  void delay_transition(std::int64_t delay_seconds, std::optional<std::string> reason);
  void abort_transition(std::optional<std::string> reason);
  void rename_state(std::string name);
  void update_context_parameters(const std::string& key, Json value);

  // A new state as the server mints it (fresh id, timestamp now, default name).
  StatePtr new_state(const StateProposal& proposal) const;
  // A fresh random UUID (v4), e.g. for a pause key Prefect generates.
  std::string new_uuid() const;
  // Appends "<Rule>:<hook>:<tag>" to the context's side effects.
  void record(std::string_view tag);

 private:
  void ensure_not_validated() const;

  Context& real_;
  RuleInstanceState& self_;
  ContextCopy& copy_;
  HookName hook_;
  std::string_view rule_name_;
};

class Rule {
 public:
  explicit Rule(RuleInfo info) : info_(std::move(info)) {}
  virtual ~Rule() = default;
  const RuleInfo& info() const { return info_; }
  const std::string& name() const { return info_.name; }

  virtual void before_transition(RuleHook&) const {}
  virtual void after_transition(RuleHook&) const {}
  virtual void cleanup(RuleHook&) const {}

 private:
  RuleInfo info_;
};

// Stateless bookkeeping on every transition: FROM = TO = everything, hooks get the real context.
class Transform {
 public:
  explicit Transform(RuleInfo info) : info_(std::move(info)) {
    info_.from_states = info_.to_states = StateTypeSet::all();
  }
  virtual ~Transform() = default;
  const RuleInfo& info() const { return info_; }
  const std::string& name() const { return info_.name; }

  virtual void before_transition(Context&) const {}
  virtual void after_transition(Context&) const {}

 private:
  RuleInfo info_;
};

// One position in a policy: a rule or a transform (Prefect's policies mix them).
struct PolicyEntry {
  std::shared_ptr<const Rule> rule;
  std::shared_ptr<const Transform> transform;

  EntryKind kind() const { return rule ? EntryKind::kRule : EntryKind::kTransform; }
  const RuleInfo& info() const { return rule ? rule->info() : transform->info(); }
  const std::string& name() const { return info().name; }
};

}  // namespace runctl
