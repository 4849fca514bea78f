#include "cli/transition_json.hpp"

#include "engine/state_text.hpp"

namespace runctl::cli {
namespace {

template <typename Strings>  // a vector of strings or a Signature
void append_strings(std::string& out, const Strings& items) {
  out.push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, items[i]);
  }
  out.push_back(']');
}

bool same_names(const Signature& a, const Signature& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (&a[i] != &b[i]) return false;
  return true;
}

// Enough for every list one policy signs with; a batch mixing many policies re-escapes some.
constexpr std::size_t kMaxSignatureTexts = 64;

}  // namespace

const std::string& SignatureTexts::text(const Signature& names) {
  for (const Entry& e : entries_)
    if (same_names(e.names, names)) return e.text;
  if (entries_.size() == kMaxSignatureTexts) entries_.erase(entries_.begin());
  std::string text;
  append_strings(text, names);
  entries_.push_back({names, std::move(text)});
  return entries_.back().text;
}

void append_transition_members(std::string& out, const TransitionResult& r,
                               SignatureTexts& signatures) {
  out += "\"run_id\":";
  append_json_string(out, r.run_id);
  out += ",\"run_kind\":\"";
  out += kind_name(r.run_kind);
  out += "\",\"policy\":";
  append_json_string(out, r.policy);
  out += ",\"initial_state\":";
  append_state_text(out, r.initial_state);
  out += ",\"proposed_state\":";
  out += r.proposed_state_text;
  out += ",\"validated_state\":";
  append_state_text(out, r.validated_state);
  out += ",\"status\":\"";
  out += status_name(r.status);
  out += "\",\"details\":";
  append_response_details_text(out, r.details);
  out += ",\"decided_by\":";
  if (r.decided_by)
    append_json_string(out, *r.decided_by);
  else
    out += "null";
  out += ",\"rule_signature\":";
  out += signatures.text(r.rule_signature);
  out += ",\"finalization_signature\":";
  out += signatures.text(r.finalization_signature);
  out += ",\"parameters\":";
  append_json(out, r.parameters);
  out += ",\"side_effects\":";
  append_strings(out, r.side_effects);
  out += ",\"error\":";
  if (r.error)
    append_json_string(out, *r.error);
  else
    out += "null";
  out += ",\"dry_run\":";
  out += r.dry_run ? "true" : "false";
}

}  // namespace runctl::cli
