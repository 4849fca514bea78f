#include "policy/declarative.hpp"

namespace runctl {

void DeclarativeRule::run(const ActionList& actions, RuleHook& hook) {
  for (const Action& a : actions) {
    switch (a.kind) {
      case Action::Kind::kReject:
        hook.reject_transition(a.state ? hook.new_state(*a.state) : nullptr, a.reason);
        break;
      case Action::Kind::kDelay:
        hook.delay_transition(a.seconds, a.reason);
        break;
      case Action::Kind::kAbort:
        hook.abort_transition(a.reason);
        break;
      case Action::Kind::kRename:
        hook.rename_state(a.text);
        break;
      case Action::Kind::kSetParameter:
        hook.update_context_parameters(a.key, a.value);
        break;
      case Action::Kind::kFail:
        throw HookError(a.text);
      case Action::Kind::kRecord:
        hook.record(a.text);
        break;
    }
  }
}

void DeclarativeTransform::run(const ActionList& actions, Context& c, HookName hook) const {
  for (const Action& a : actions) {
    switch (a.kind) {
      case Action::Kind::kReject:
        c.proposed_state = a.state ? make_state(*a.state, c.uuids->next(), c.now()) : nullptr;
        c.response_status = SetStateStatus::kReject;
        c.response_details = ResponseDetails::reject(a.reason);
        break;
      case Action::Kind::kDelay:
        c.proposed_state = nullptr;
        c.response_status = SetStateStatus::kWait;
        c.response_details = ResponseDetails::wait(a.seconds, a.reason);
        break;
      case Action::Kind::kAbort:
        c.proposed_state = nullptr;
        c.response_status = SetStateStatus::kAbort;
        c.response_details = ResponseDetails::abort(a.reason);
        break;
      case Action::Kind::kRename:
        if (c.proposed_state) c.proposed_state->name = a.text;
        break;
      case Action::Kind::kSetParameter:
        c.parameters[a.key] = a.value;
        break;
      case Action::Kind::kFail:
        throw HookError(a.text);
      case Action::Kind::kRecord:
        c.side_effects.push_back(name() + ":" + std::string(hook_name(hook)) + ":" + a.text);
        break;
    }
  }
}

}  // namespace runctl
