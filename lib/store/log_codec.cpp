#include "store/log_codec.hpp"

#include "engine/state_json.hpp"
#include "engine/state_text.hpp"

namespace runctl {
namespace {

// What response_details_to_json gives a plain ACCEPT.
constexpr std::string_view kPlainAccept =
    R"({"type":"accept_details","reason":null,"delay_seconds":null})";

}  // namespace

std::string stored_proposal_text(const State& proposal) {
  std::string out;
  append_stored_state_text(out, proposal);
  return out;
}

Json proposal_from_stored(Json stored, const std::string& where) {
  if (!stored.is_object()) return stored;
  auto it = stored.find("state_details");
  if (it == stored.end() || !it->is_object()) return stored;
  StateDetails details;
  apply_state_details(*it, details, where + " proposed_state.state_details");
  *it = state_details_to_json(details);
  return stored;
}

std::optional<std::string> stored_details_text(const Json& details) {
  std::string text;
  append_json(text, details);
  if (text == kPlainAccept) return std::nullopt;
  return text;
}

Json details_from_stored(Json stored) {
  if (!stored.is_null()) return stored;
  static const Json plain_accept = Json::parse(kPlainAccept);
  return plain_accept;
}

}  // namespace runctl
