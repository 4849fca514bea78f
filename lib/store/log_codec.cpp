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

std::optional<std::string> stored_details_text(const LogEntry& entry) {
  std::string text;
  append_json(text, entry.details);
  if (entry.decided_by && text.size() > 1 && text.back() == '}') {
    text.pop_back();
    text += text.size() > 1 ? ",\"decided_by\":" : "\"decided_by\":";
    append_json_string(text, *entry.decided_by);
    text.push_back('}');
    return text;
  }
  if (text == kPlainAccept) return std::nullopt;
  return text;
}

void details_from_stored(Json stored, LogEntry& entry) {
  entry.decided_by.reset();
  if (stored.is_null()) {
    static const Json plain_accept = Json::parse(kPlainAccept);
    entry.details = plain_accept;
    return;
  }
  if (stored.is_object()) {
    const auto it = stored.find("decided_by");
    if (it != stored.end()) {
      if (it->is_string()) entry.decided_by = it->get<std::string>();
      stored.erase(it);
    }
  }
  entry.details = std::move(stored);
}

}  // namespace runctl
