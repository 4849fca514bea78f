// Declarative rules and transforms: what an operator writes in a policy file instead of C++.
// The RULE/ACTION format is the one of tests/scenarios/README.md.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/rule.hpp"

namespace runctl {

struct Action {
  enum class Kind { kReject, kDelay, kAbort, kRename, kSetParameter, kFail, kRecord };
  Kind kind;
  std::optional<StateProposal> state;  // reject: the replacement, or none for a null rejection
  std::optional<std::string> reason;   // reject / delay / abort
  std::int64_t seconds = 0;            // delay
  std::string text;                    // rename: new name; fail: message; record: tag
  std::string key;                     // set_parameter
  Json value;                          // set_parameter
};

using ActionList = std::vector<Action>;

// In a rule, actions go through the rule's helpers, with their guards.
class DeclarativeRule final : public Rule {
 public:
  DeclarativeRule(RuleInfo info, ActionList before, ActionList after, ActionList cleanup)
      : Rule(std::move(info)),
        before_(std::move(before)),
        after_(std::move(after)),
        cleanup_(std::move(cleanup)) {}

  void before_transition(RuleHook& hook) const override { run(before_, hook); }
  void after_transition(RuleHook& hook) const override { run(after_, hook); }
  void cleanup(RuleHook& hook) const override { run(cleanup_, hook); }

 private:
  static void run(const ActionList& actions, RuleHook& hook);
  ActionList before_, after_, cleanup_;
};

// In a transform there are no helpers: actions set the context directly, with no guards.
class DeclarativeTransform final : public Transform {
 public:
  DeclarativeTransform(TransformInfo info, ActionList before, ActionList after)
      : Transform(std::move(info)), before_(std::move(before)), after_(std::move(after)) {}

  void before_transition(Context& c) const override { run(before_, c, HookName::kBefore); }
  void after_transition(Context& c) const override { run(after_, c, HookName::kAfter); }

 private:
  void run(const ActionList& actions, Context& c, HookName hook) const;
  ActionList before_, after_;
};

}  // namespace runctl
