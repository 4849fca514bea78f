#include "engine/state.hpp"

namespace runctl {

// Both build the State with every member given: a default-constructed State would first make
// an empty StateDetails of its own, only to replace it.
State State::deep_copy() const {
  return State{id,
               type,
               name,
               timestamp,
               message,
               std::make_shared<StateDetails>(*details),
               data ? std::make_shared<Json>(*data) : nullptr};
}

StatePtr make_state(const StateProposal& proposal, std::string id, Timestamp now) {
  // A braced temporary, moved: clang 14 cannot construct an aggregate from parentheses.
  auto state = std::make_shared<State>(
      State{std::move(id), proposal.type,
            proposal.name ? *proposal.name : std::string(default_state_name(proposal.type)), now,
            proposal.message, std::make_shared<StateDetails>(proposal.details),
            proposal.data && !proposal.data->is_null() ? std::make_shared<Json>(*proposal.data)
                                                       : nullptr});
  if (proposal.type == StateType::kScheduled && !state->details->scheduled_time)
    state->details->scheduled_time = now;
  return state;
}

}  // namespace runctl
