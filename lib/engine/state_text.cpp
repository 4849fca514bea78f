#include "engine/state_text.hpp"

#include <charconv>

#include "util/uuid.hpp"

namespace runctl {
namespace {

void append_null_or_string(std::string& out, const std::optional<std::string>& v) {
  if (v)
    append_json_string(out, *v);
  else
    out += "null";
}

void append_null_or_time(std::string& out, const std::optional<Timestamp>& t) {
  if (!t) {
    out += "null";
    return;
  }
  out.push_back('"');
  append_timestamp(out, *t);
  out.push_back('"');
}

void append_bool(std::string& out, bool b) {
  out += b ? "true" : "false";
}

void append_null_or_bool(std::string& out, const std::optional<bool>& b) {
  if (b)
    append_bool(out, *b);
  else
    out += "null";
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      append_json(out, Json(std::string(text)));
      return;
    }
  }
  out.push_back('"');
  out.append(text);
  out.push_back('"');
}

void append_json(std::string& out, const Json& value) {
  out += value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Key order and spelling: state_details_to_json().
void append_state_details_text(std::string& out, const StateDetails& d) {
  out += "{\"flow_run_id\":";
  append_null_or_string(out, d.flow_run_id);
  out += ",\"task_run_id\":";
  append_null_or_string(out, d.task_run_id);
  out += ",\"child_flow_run_id\":";
  append_null_or_string(out, d.child_flow_run_id);
  out += ",\"scheduled_time\":";
  append_null_or_time(out, d.scheduled_time);
  out += ",\"cache_key\":";
  append_null_or_string(out, d.cache_key);
  out += ",\"cache_expiration\":";
  append_null_or_time(out, d.cache_expiration);
  out += ",\"deferred\":";
  append_null_or_bool(out, d.deferred);
  out += ",\"untrackable_result\":";
  append_bool(out, d.untrackable_result);
  out += ",\"pause_timeout\":";
  append_null_or_time(out, d.pause_timeout);
  out += ",\"pause_reschedule\":";
  append_bool(out, d.pause_reschedule);
  out += ",\"pause_key\":";
  append_null_or_string(out, d.pause_key);
  out += ",\"run_input_keyset\":";
  if (d.run_input_keyset)
    append_json(out, *d.run_input_keyset);
  else
    out += "null";
  out += ",\"refresh_cache\":";
  append_null_or_bool(out, d.refresh_cache);
  out += ",\"retriable\":";
  append_null_or_bool(out, d.retriable);
  out += ",\"transition_id\":";
  append_null_or_string(out, d.transition_id);
  out += ",\"task_parameters_id\":";
  append_null_or_string(out, d.task_parameters_id);
  out += ",\"traceparent\":";
  append_null_or_string(out, d.traceparent);
  out += ",\"deployment_concurrency_lease_id\":";
  append_null_or_string(out, d.deployment_concurrency_lease_id);
  out.push_back('}');
}

// Key order and spelling: state_to_json().
void append_state_text(std::string& out, const State& s) {
  out += "{\"id\":";
  append_json_string(out, s.id);
  out += ",\"type\":\"";
  out += type_name(s.type);
  out += "\",\"name\":";
  append_json_string(out, s.name);
  out += ",\"message\":";
  append_null_or_string(out, s.message);
  out += ",\"timestamp\":\"";
  append_timestamp(out, s.timestamp);
  out += "\",\"state_details\":";
  append_state_details_text(out, *s.details);
  out += ",\"data\":";
  if (s.data)
    append_json(out, *s.data);
  else
    out += "null";
  out.push_back('}');
}

void append_state_text(std::string& out, const StatePtr& s) {
  if (s)
    append_state_text(out, *s);
  else
    out += "null";
}

// Key order and spelling: response_details_to_json().
void append_response_details_text(std::string& out, const ResponseDetails& d) {
  out += "{\"type\":\"";
  out += details_type_name(d.kind);
  out += "\",\"reason\":";
  append_null_or_string(out, d.reason);
  out += ",\"delay_seconds\":";
  if (d.delay_seconds)
    append_int(out, *d.delay_seconds);
  else
    out += "null";
  out.push_back('}');
}

namespace {

// A cursor over canonical state_details text; every read fails (returns false) on anything
// unexpected, leaving the general parser to deal with it.
class CanonicalReader {
 public:
  explicit CanonicalReader(std::string_view text) : t_(text) {}

  bool literal(std::string_view s) {
    if (t_.substr(pos_, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }
  bool at_end() const { return pos_ == t_.size(); }

  // null, or a string of printable ASCII without quotes or backslashes (no escapes to decode).
  bool plain_string(std::optional<std::string>& out, std::size_t max_bytes) {
    if (literal("null")) {
      out.reset();
      return true;
    }
    if (!literal("\"")) return false;
    const std::size_t start = pos_;
    while (pos_ < t_.size() && t_[pos_] != '"') {
      const auto u = static_cast<unsigned char>(t_[pos_]);
      if (u < 0x20 || u >= 0x7f || u == '\\') return false;
      ++pos_;
    }
    if (pos_ == t_.size() || pos_ - start > max_bytes) return false;
    out.emplace(t_.substr(start, pos_ - start));
    ++pos_;
    return true;
  }
  bool uuid(std::optional<std::string>& out) {
    if (!plain_string(out, 36)) return false;
    return !out || normalize_uuid(*out) == out;
  }
  bool time(std::optional<Timestamp>& out) {
    std::optional<std::string> text;
    if (!plain_string(text, 64)) return false;
    if (!text) {
      out.reset();
      return true;
    }
    out = parse_timestamp(*text);
    return out && format_timestamp(*out) == *text;
  }
  bool boolean(bool& out) {
    if (literal("true")) return out = true, true;
    if (literal("false")) return out = false, true;
    return false;
  }
  bool optional_boolean(std::optional<bool>& out) {
    if (literal("null")) return out.reset(), true;
    bool b = false;
    if (!boolean(b)) return false;
    out = b;
    return true;
  }

 private:
  std::string_view t_;
  std::size_t pos_ = 0;
};

}  // namespace

bool parse_canonical_state_details(std::string_view text, StateDetails& details) {
  // Strings longer than this take the general path, which applies the real limits.
  constexpr std::size_t kPlainMax = 1024;
  CanonicalReader r(text);
  StateDetails d;
  const bool ok = r.literal("{\"flow_run_id\":") && r.uuid(d.flow_run_id) &&
                  r.literal(",\"task_run_id\":") && r.uuid(d.task_run_id) &&
                  r.literal(",\"child_flow_run_id\":") && r.uuid(d.child_flow_run_id) &&
                  r.literal(",\"scheduled_time\":") && r.time(d.scheduled_time) &&
                  r.literal(",\"cache_key\":") && r.plain_string(d.cache_key, kPlainMax) &&
                  r.literal(",\"cache_expiration\":") && r.time(d.cache_expiration) &&
                  r.literal(",\"deferred\":") && r.optional_boolean(d.deferred) &&
                  r.literal(",\"untrackable_result\":") && r.boolean(d.untrackable_result) &&
                  r.literal(",\"pause_timeout\":") && r.time(d.pause_timeout) &&
                  r.literal(",\"pause_reschedule\":") && r.boolean(d.pause_reschedule) &&
                  r.literal(",\"pause_key\":") && r.plain_string(d.pause_key, kPlainMax) &&
                  r.literal(",\"run_input_keyset\":null") && r.literal(",\"refresh_cache\":") &&
                  r.optional_boolean(d.refresh_cache) && r.literal(",\"retriable\":") &&
                  r.optional_boolean(d.retriable) && r.literal(",\"transition_id\":") &&
                  r.uuid(d.transition_id) && r.literal(",\"task_parameters_id\":") &&
                  r.uuid(d.task_parameters_id) && r.literal(",\"traceparent\":") &&
                  r.plain_string(d.traceparent, kPlainMax) &&
                  r.literal(",\"deployment_concurrency_lease_id\":") &&
                  r.uuid(d.deployment_concurrency_lease_id) && r.literal("}") && r.at_end();
  if (ok) details = std::move(d);
  return ok;
}

std::string state_details_text(const StateDetails& details) {
  std::string out;
  out.reserve(512);
  append_state_details_text(out, details);
  return out;
}

}  // namespace runctl
