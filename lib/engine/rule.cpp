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

const State* RuleHook::state_view() const {
  if (hook_ != HookName::kBefore)
    return (missing_ & kValidated) ? real_.validated_state.get() : copy_->validated_state.get();
  if (!(missing_ & kProposed)) return copy_->proposed_state.get();
  viewed_proposal_ = real_.proposed_state.get();
  return viewed_proposal_;
}

void RuleHook::fill_missing(unsigned fields) const {
  if (!copy_) {
    lazy_.emplace(ContextCopy{real_.kind, *real_.run, nullptr, nullptr, nullptr, Json(),
                              std::nullopt, *real_.clock, real_.random, real_.services});
    copy_ = &*lazy_;
  }
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

void RuleHook::replace_proposal(StatePtr state) {
  if (real_.proposed_state.get() == viewed_proposal_) retired_ = std::move(real_.proposed_state);
  real_.proposed_state = std::move(state);
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
    replace_proposal(nullptr);
  } else {
    self_.to_type = state->type;
    replace_proposal(std::move(state));
  }
  real_.response_status = SetStateStatus::kReject;
  real_.response_details = ResponseDetails::reject(std::move(reason));
  decided_ = true;
}

void RuleHook::delay_transition(std::int64_t delay_seconds, std::optional<std::string> reason) {
  fill(kAllFields);
  ensure_not_validated();
  self_.to_type = std::nullopt;
  replace_proposal(nullptr);
  real_.response_status = SetStateStatus::kWait;
  real_.response_details = ResponseDetails::wait(delay_seconds, std::move(reason));
  decided_ = true;
}

void RuleHook::abort_transition(std::optional<std::string> reason) {
  fill(kAllFields);
  ensure_not_validated();
  self_.to_type = std::nullopt;
  replace_proposal(nullptr);
  real_.response_status = SetStateStatus::kAbort;
  real_.response_details = ResponseDetails::abort(std::move(reason));
  decided_ = true;
}

void RuleHook::rename_state(std::string name) {
  fill(kAllFields);
  if (!real_.proposed_state) return;
  // A view of the real proposal is the hook's copy in Prefect's terms: it keeps its name.
  if (real_.proposed_state.get() == viewed_proposal_)
    replace_proposal(std::make_shared<State>(*real_.proposed_state));
  real_.proposed_state->name = std::move(name);
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
