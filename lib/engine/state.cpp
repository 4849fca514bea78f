#include "engine/state.hpp"

namespace runctl {

State State::deep_copy() const {
  State copy = *this;
  copy.details = std::make_shared<StateDetails>(*details);
  copy.data = data ? std::make_shared<Json>(*data) : nullptr;
  return copy;
}

StatePtr make_state(const StateProposal& proposal, std::string id, Timestamp now) {
  auto state = std::make_shared<State>();
  state->id = std::move(id);
  state->type = proposal.type;
  state->name = proposal.name ? *proposal.name : std::string(default_state_name(proposal.type));
  state->timestamp = now;
  state->message = proposal.message;
  *state->details = proposal.details;
  if (proposal.type == StateType::kScheduled && !state->details->scheduled_time)
    state->details->scheduled_time = now;
  if (proposal.data && !proposal.data->is_null())
    state->data = std::make_shared<Json>(*proposal.data);
  return state;
}

}  // namespace runctl
