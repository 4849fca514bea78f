// Orchestration rules and universal transforms: Prefect's BaseOrchestrationRule and
// BaseUniversalTransform (prefect.server.orchestration.rules).
//
// How to write a rule (the contract the chain runner, lib/engine/chain.cpp, relies on):
// - Declare it as Prefect does: a class deriving from Rule whose constructor's RuleInfo names the
//   class, its run kind and its FROM/TO sets, each field labelled. The chain calls its hooks only
//   for a transition inside FROM x TO (Prefect's compile_transition_rules) and only while the
//   context still matches them (Prefect's invalid_on_entry / fizzle checks).
// - Hooks are const: a Rule object serves every transition. What a hook keeps for a later hook
//   of the same transition goes in its scratch value (emplace_scratch / scratch).
// - Read through a view (initial_view, state_view) or, when the hook needs Prefect's own copy of
//   the context (to mutate states it then proposes), through context(); nothing else copies.
// - Change the transition only through the helpers (reject_transition, delay_transition,
//   abort_transition, rename_state, update_context_parameters): they carry Prefect's guards and
//   error texts, and tell the chain which rule decided. A HookError thrown from a hook is
//   Prefect's exception in a hook.
// - Time, ids and randomness come from the hook (now, new_state, new_uuid, random), never from
//   the system; the store only through services().
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

// Which run kind an entry is written for (Prefect's FlowOrchestrationContext /
// TaskOrchestrationContext typing; generic entries serve both).
enum class RunScope { kFlow, kTask, kGeneric };

// A rule's identity card, the first lines of its class as in Prefect (FROM_STATES, TO_STATES):
// what `runctl rules` prints, what the registry files it under and what the chain runner checks.
// Declared with designated initializers, so every field is labelled where it is set:
//   RetryFailedFlows() : Rule({.name = "RetryFailedFlows", .run_kind = RunScope::kFlow,
//                              .from_states = {StateType::kRunning},
//                              .to_states = {StateType::kFailed}, .description = "..."}) {}
struct RuleInfo {
  std::string name;  // Prefect's class name; signatures carry it
  RunScope run_kind = RunScope::kGeneric;
  StateTypeSet from_states;
  StateTypeSet to_states;
  std::string description;
};

// A transform's identity card. Transforms (Prefect's global policy entries) run on every
// transition, so they have no FROM/TO of their own: their RuleInfo answers "all" for both.
struct TransformInfo {
  std::string name;
  RunScope run_kind = RunScope::kGeneric;
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

// What a rule hook sees and may do: Prefect's context as the hook's own copy (ContextCopy), and
// the helpers, which act on the real context with the guards and error texts of Prefect's
// reject_transition, delay_transition, abort_transition and rename_state.
class RuleHook {
 public:
  // With a copy the caller made.
  RuleHook(Context& real, RuleInstanceState& self, ContextCopy& copy, HookName hook,
           std::string_view rule_name)
      : real_(real), self_(self), copy_(&copy), hook_(hook), rule_name_(rule_name) {}
  // With the copy made on first use, field by field (the chain runner's). The hook sees the same
  // as with a copy made up front: nothing changes the real context's states or parameters before
  // a helper runs, and every helper completes the copy first.
  RuleHook(Context& real, RuleInstanceState& self, HookName hook, std::string_view rule_name)
      : real_(real), self_(self), missing_(kAllFields), hook_(hook), rule_name_(rule_name) {}
  RuleHook(const RuleHook&) = delete;
  RuleHook& operator=(const RuleHook&) = delete;

  // The two ways to read a state. Views: the initial state, and the proposed state in
  // before_transition or the validated state in after_transition / cleanup. A view copies
  // nothing; it shows what the copy would (the real state until a copy exists) and stays valid
  // for the whole hook, whatever helper runs. Details edited through a view are the real
  // state's, as in Prefect, where a copy shares them.
  const State* initial_view() const {
    return (missing_ & kInitial) ? real_.initial_state.get() : copy_->initial_state.get();
  }
  const State* state_view() const;
  // The explicit copy: Prefect's context as this hook's own, for a hook that mutates states it
  // then proposes (reject_transition with a re-typed copy) or needs the run it may change.
  ContextCopy& context() {
    fill(kAllFields);
    return *copy_;
  }

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
  explicit Transform(TransformInfo info)
      : info_{.name = std::move(info.name),
              .run_kind = info.run_kind,
              .from_states = StateTypeSet::all(),
              .to_states = StateTypeSet::all(),
              .description = std::move(info.description)},
        signature_(intern_name(info_.name)) {}
  virtual ~Transform() = default;
  const RuleInfo& info() const { return info_; }
  const std::string& name() const { return info_.name; }
  const std::string* signature() const { return signature_; }  // the interned name

  virtual void before_transition(Context&) const {}
  virtual void after_transition(Context&) const {}

 private:
  RuleInfo info_;  // FROM = TO = everything
  const std::string* signature_;
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
