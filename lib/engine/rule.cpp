#include "engine/rule.hpp"

namespace runctl {

std::string_view hook_name(HookName h) {
  switch (h) {
    case HookName::kBefore:
      return "before";
    case HookName::kAfter:
      return "after";
    case HookName::kCleanup:
      return "cleanup";
  }
  return "?";
}

RuleHook::RuleHook(Context& real, RuleInstanceState& self, HookName hook,
                   std::string_view rule_name)
    : real_(real),
      self_(self),
      copy_(nullptr),
      missing_(kAllFields),
      hook_(hook),
      rule_name_(rule_name) {
  lazy_.emplace(ContextCopy{real.kind, *real.run, nullptr, nullptr, nullptr, Json(), std::nullopt,
                            *real.clock, real.random, real.services});
  copy_ = &*lazy_;
}

void RuleHook::fill_missing(unsigned fields) const {
  // Prefect's shallow copy: a new State sharing the original's details and data.
  auto shallow = [](const StatePtr& s) { return s ? std::make_shared<State>(*s) : nullptr; };
  const unsigned todo = missing_ & fields;
  if (todo & kInitial) copy_->initial_state = shallow(real_.initial_state);
  if (todo & kProposed) copy_->proposed_state = shallow(real_.proposed_state);
  if (todo & kValidated) copy_->validated_state = shallow(real_.validated_state);
  if (todo & kRest) {
    copy_->parameters = real_.parameters;
    copy_->client_version = real_.client_version;
  }
  missing_ &= ~todo;
}

void RuleHook::ensure_not_validated() const {
  if (real_.validated_state) throw HookError("The transition is already validated");
}

void RuleHook::reject_transition(StatePtr state, std::optional<std::string> reason) {
  fill(kAllFields);  // the copy shows the context as the hook found it
  ensure_not_validated();
  if (!state) {
    if (!self_.from_type)
      throw OrchestrationError(
          "The current run has no state; this transition cannot be rejected without providing a "
          "new state.");
    self_.to_type = std::nullopt;
    real_.proposed_state = nullptr;
  } else {
    self_.to_type = state->type;
    real_.proposed_state = std::move(state);
  }
  real_.response_status = Status::kReject;
  real_.response_details = ResponseDetails::reject(std::move(reason));
}

void RuleHook::delay_transition(std::int64_t delay_seconds, std::optional<std::string> reason) {
  fill(kAllFields);
  ensure_not_validated();
  self_.to_type = std::nullopt;
  real_.proposed_state = nullptr;
  real_.response_status = Status::kWait;
  real_.response_details = ResponseDetails::wait(delay_seconds, std::move(reason));
}

void RuleHook::abort_transition(std::optional<std::string> reason) {
  fill(kAllFields);
  ensure_not_validated();
  self_.to_type = std::nullopt;
  real_.proposed_state = nullptr;
  real_.response_status = Status::kAbort;
  real_.response_details = ResponseDetails::abort(std::move(reason));
}

void RuleHook::rename_state(std::string name) {
  fill(kAllFields);
  if (real_.proposed_state) real_.proposed_state->name = std::move(name);
}

void RuleHook::update_context_parameters(const std::string& key, Json value) {
  fill(kAllFields);
  real_.parameters[key] = std::move(value);
}

StatePtr RuleHook::new_state(const StateProposal& proposal) const {
  return make_state(proposal, real_.uuids->next(), real_.now());
}

std::string RuleHook::new_uuid() const {
  return real_.uuids->next();
}

void RuleHook::record(std::string_view tag) {
  std::string entry(rule_name_);
  entry += ':';
  entry += hook_name(hook_);
  entry += ':';
  entry += tag;
  real_.side_effects.push_back(std::move(entry));
}

}  // namespace runctl
