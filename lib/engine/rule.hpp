// Orchestration rules and universal transforms: Prefect's BaseOrchestrationRule and
// BaseUniversalTransform (prefect.server.orchestration.rules).
#pragma once
#include <any>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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
// invalid_on_entry, built from the intended transition and edited by the helpers, and whatever
// the rule's hooks keep between before_transition and after_transition / cleanup.
struct RuleInstanceState {
  MaybeType from_type;
  MaybeType to_type;
  std::optional<bool> invalid_on_entry;
  // Prefect's rules keep such values on the instance (self.x), which lives for one transition.
  // runctl's Rule objects are shared by every transition (and by nested ones), so the value
  // lives here instead, in the chain runner's entry for this rule: it starts empty on every
  // entry and is gone when the transition ends.
  std::any scratch;
};

// What a rule hook sees and may do. The states and parameters are copies (ContextCopy); the
// helpers act on the real context, with the guards and error texts of Prefect's
// reject_transition, delay_transition, abort_transition and rename_state.
class RuleHook {
 public:
  // With a copy the caller made.
  RuleHook(Context& real, RuleInstanceState& self, ContextCopy& copy, HookName hook,
           std::string_view rule_name)
      : real_(real), self_(self), copy_(&copy), hook_(hook), rule_name_(rule_name) {}
  // With the copy made lazily, field by field, on first use (the chain runner's): most hooks
  // read one or two states, many read none, and copying them all for every hook was a third of
  // a chain's time. What the hook sees is the same: nothing changes the real context's states or
  // parameters before a helper below runs, and every helper completes the copy first.
  RuleHook(Context& real, RuleInstanceState& self, HookName hook, std::string_view rule_name)
      : real_(real), self_(self), missing_(kAllFields), hook_(hook), rule_name_(rule_name) {}
  RuleHook(const RuleHook&) = delete;
  RuleHook& operator=(const RuleHook&) = delete;

  ContextCopy& context() {
    fill(kAllFields);
    return *copy_;
  }
  const StatePtr& initial_state() const {
    fill(kInitial);
    return copy_->initial_state;
  }
  // The proposed state in before_transition, the validated state in after/cleanup.
  const StatePtr& state() const {
    if (hook_ == HookName::kBefore) {
      fill(kProposed);
      return copy_->proposed_state;
    }
    fill(kValidated);
    return copy_->validated_state;
  }

  // Read-only views of the same states, for hooks that only read them (or edit their details,
  // which a copy shares with the real state anyway): no copy is made. A view shows what the
  // copy would: until a copy exists it is the real state, which nothing but a helper changes
  // during the hook, and the helpers keep what a view points at alive and unrenamed.
  const State* initial_view() const {
    return (missing_ & kInitial) ? real_.initial_state.get() : copy_->initial_state.get();
  }
  const State* state_view() const;

  // The rest of the context, without copying the states or parameters.
  Run& run() const { return *real_.run; }
  RunKind kind() const { return copy_ ? copy_->kind : real_.kind; }
  Services* services() const { return copy_ ? copy_->services : real_.services; }
  RandomSource* random() const { return copy_ ? copy_->random : real_.random; }
  Timestamp now() const { return copy_ ? copy_->now() : real_.now(); }
  const std::optional<std::string>& client_version() const {
    return (missing_ & kRest) ? real_.client_version : copy_->client_version;
  }
  const Json& parameters() const {
    return (missing_ & kRest) ? real_.parameters : copy_->parameters;
  }

  HookName hook() const { return hook_; }
  std::string_view rule_name() const { return rule_name_; }
  // Whether this hook called reject_transition, delay_transition or abort_transition: the chain
  // runner then names its rule as the one that decided.
  bool decided() const { return decided_; }

  // This rule instance's scratch value (RuleInstanceState::scratch), replaced by a new T.
  template <typename T, typename... Args>
  T& emplace_scratch(Args&&... args) {
    return self_.scratch.emplace<T>(std::forward<Args>(args)...);
  }
  // The T an earlier hook of this instance kept, or null: a before hook that returned early
  // kept nothing, which is Prefect's AttributeError in the hooks that read it.
  template <typename T>
  T* scratch() {
    return std::any_cast<T>(&self_.scratch);
  }

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
  // Replaces the real proposal, keeping the one it replaces alive: a view may point at it.
  void replace_proposal(StatePtr state);

  // Fields of the lazy copy, as bits: the ones in `missing_` are not copied yet.
  static constexpr unsigned kInitial = 1, kProposed = 2, kValidated = 4, kRest = 8, kAllFields = 15;
  void fill(unsigned fields) const {
    if (missing_ & fields) fill_missing(fields);
  }
  void fill_missing(unsigned fields) const;

  Context& real_;
  RuleInstanceState& self_;
  mutable ContextCopy* copy_ = nullptr;
  mutable std::optional<ContextCopy> lazy_;
  mutable unsigned missing_ = 0;
  // The real proposal a view handed out, while it is the real one: renaming it would show
  // through the view, so rename_state renames a copy that replaces it instead.
  mutable const State* viewed_proposal_ = nullptr;
  StatePtr retired_;  // a real proposal a helper replaced, kept for the views
  bool decided_ = false;
  HookName hook_;
  std::string_view rule_name_;
};

class Rule {
 public:
  explicit Rule(RuleInfo info) : info_(std::move(info)), signature_(intern_name(info_.name)) {}
  virtual ~Rule() = default;
  const RuleInfo& info() const { return info_; }
  const std::string& name() const { return info_.name; }
  const std::string* signature() const { return signature_; }  // the interned name

  virtual void before_transition(RuleHook&) const {}
  virtual void after_transition(RuleHook&) const {}
  virtual void cleanup(RuleHook&) const {}

 private:
  RuleInfo info_;
  const std::string* signature_;
};

// Stateless bookkeeping on every transition: FROM = TO = everything, hooks get the real context.
class Transform {
 public:
  explicit Transform(RuleInfo info) : info_(std::move(info)) {
    info_.from_states = info_.to_states = StateTypeSet::all();
    signature_ = intern_name(info_.name);
  }
  virtual ~Transform() = default;
  const RuleInfo& info() const { return info_; }
  const std::string& name() const { return info_.name; }
  const std::string* signature() const { return signature_; }  // the interned name

  virtual void before_transition(Context&) const {}
  virtual void after_transition(Context&) const {}

 private:
  RuleInfo info_;
  const std::string* signature_ = nullptr;
};

// One position in a policy: a rule or a transform (Prefect's policies mix them).
struct PolicyEntry {
  std::shared_ptr<const Rule> rule;
  std::shared_ptr<const Transform> transform;

  EntryKind kind() const { return rule ? EntryKind::kRule : EntryKind::kTransform; }
  const RuleInfo& info() const { return rule ? rule->info() : transform->info(); }
  const std::string& name() const { return info().name; }
  const std::string* signature() const { return rule ? rule->signature() : transform->signature(); }
};

}  // namespace runctl
