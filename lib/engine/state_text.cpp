#include "engine/state_text.hpp"

#include <array>
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

namespace {

// The bytes that send a string through nlohmann's dump(): control characters, the quote and the
// backslash, which it escapes, and DEL and every non-ASCII byte, whose UTF-8 it checks (an
// invalid sequence becomes U+FFFD). Any other string is its own JSON text between quotes.
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
  return table;
}();

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  for (const char c : text) {
    if (kNeedsEscape[static_cast<unsigned char>(c)]) {
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

namespace {

void append_details(std::string& out, const StateDetails& d, bool skip_defaults);

// Key order and spelling: state_to_json().
void append_state(std::string& out, const State& s, bool stored_details) {
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
  append_details(out, *s.details, stored_details);
  out += ",\"data\":";
  if (s.data)
    append_json(out, *s.data);
  else
    out += "null";
  out.push_back('}');
}

}  // namespace

void append_state_text(std::string& out, const State& s) {
  append_state(out, s, false);
}

void append_stored_state_text(std::string& out, const State& s) {
  append_state(out, s, true);
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

// A cursor over stored state_details text; every read fails (returns false) on anything
// unexpected, leaving the general parser to deal with it.
class StoredReader {
 public:
  explicit StoredReader(std::string_view text) : t_(text) {}

  bool literal(std::string_view s) {
    if (t_.substr(pos_, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }
  bool at_end() const { return pos_ == t_.size(); }

  // A quoted key, as written: no escapes.
  bool key(std::string_view& out) {
    if (!literal("\"")) return false;
    const std::size_t end = t_.find('"', pos_);
    if (end == std::string_view::npos) return false;
    out = t_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return literal(":");
  }

  // null, or a string of printable ASCII without quotes or backslashes (no escapes to decode).
  bool plain_string(std::optional<std::string>& out) {
    // Strings longer than this take the general path, which applies the real limits.
    constexpr std::size_t kPlainMax = 1024;
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
    if (pos_ == t_.size() || pos_ - start > kPlainMax) return false;
    out.emplace(t_.substr(start, pos_ - start));
    ++pos_;
    return true;
  }
  bool uuid(std::optional<std::string>& out) {
    if (!plain_string(out)) return false;
    return !out || normalize_uuid(*out) == out;
  }
  bool time(std::optional<Timestamp>& out) {
    std::optional<std::string> text;
    if (!plain_string(text)) return false;
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
  // Only null: a keyset takes the general path.
  bool null_keyset(std::optional<Json>& out) {
    if (!literal("null")) return false;
    out.reset();
    return true;
  }

 private:
  std::string_view t_;
  std::size_t pos_ = 0;
};

// One row per state_details key, in state_details_to_json()'s order: how the stored form writes
// it, whether it holds the default (and so is left out), and how it is read back.
const StateDetails kDefaultDetails{};

struct DetailsKey {
  std::string_view name;
  bool (*is_default)(const StateDetails&);
  void (*write)(std::string&, const StateDetails&);
  bool (*read)(StoredReader&, StateDetails&);
};

#define RUNCTL_KEY(field, append, reader)                                         \
  DetailsKey {                                                                    \
#field, [](const StateDetails& d) { return d.field == kDefaultDetails.field; }, \
        [](std::string& out, const StateDetails& d) { append(out, d.field); },     \
        [](StoredReader& r, StateDetails& d) { return r.reader(d.field); } \
  }

void append_keyset(std::string& out, const std::optional<Json>& keyset) {
  if (keyset)
    append_json(out, *keyset);
  else
    out += "null";
}

const DetailsKey kDetailsKeys[] = {
    RUNCTL_KEY(flow_run_id, append_null_or_string, uuid),
    RUNCTL_KEY(task_run_id, append_null_or_string, uuid),
    RUNCTL_KEY(child_flow_run_id, append_null_or_string, uuid),
    RUNCTL_KEY(scheduled_time, append_null_or_time, time),
    RUNCTL_KEY(cache_key, append_null_or_string, plain_string),
    RUNCTL_KEY(cache_expiration, append_null_or_time, time),
    RUNCTL_KEY(deferred, append_null_or_bool, optional_boolean),
    RUNCTL_KEY(untrackable_result, append_bool, boolean),
    RUNCTL_KEY(pause_timeout, append_null_or_time, time),
    RUNCTL_KEY(pause_reschedule, append_bool, boolean),
    RUNCTL_KEY(pause_key, append_null_or_string, plain_string),
    RUNCTL_KEY(run_input_keyset, append_keyset, null_keyset),
    RUNCTL_KEY(refresh_cache, append_null_or_bool, optional_boolean),
    RUNCTL_KEY(retriable, append_null_or_bool, optional_boolean),
    RUNCTL_KEY(transition_id, append_null_or_string, uuid),
    RUNCTL_KEY(task_parameters_id, append_null_or_string, uuid),
    RUNCTL_KEY(traceparent, append_null_or_string, plain_string),
    RUNCTL_KEY(deployment_concurrency_lease_id, append_null_or_string, uuid),
};

#undef RUNCTL_KEY

void append_details(std::string& out, const StateDetails& d, bool skip_defaults) {
  out.push_back('{');
  bool first = true;
  for (const DetailsKey& k : kDetailsKeys) {
    if (skip_defaults && k.is_default(d)) continue;
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    out += k.name;
    out += "\":";
    k.write(out, d);
  }
  out.push_back('}');
}

}  // namespace

void append_state_details_text(std::string& out, const StateDetails& d) {
  append_details(out, d, false);
}

void append_stored_state_details_text(std::string& out, const StateDetails& d) {
  append_details(out, d, true);
}

bool parse_stored_state_details(std::string_view text, StateDetails& details) {
  StoredReader r(text);
  StateDetails d;
  if (!r.literal("{")) return false;
  if (!r.literal("}")) {
    std::size_t next = 0;  // keys come in table order, each at most once
    do {
      std::string_view name;
      if (!r.key(name)) return false;
      while (next < std::size(kDetailsKeys) && kDetailsKeys[next].name != name) ++next;
      if (next == std::size(kDetailsKeys) || !kDetailsKeys[next].read(r, d)) return false;
      ++next;
    } while (r.literal(","));
    if (!r.literal("}")) return false;
  }
  if (!r.at_end()) return false;
  details = std::move(d);
  return true;
}

std::string stored_state_details_text(const StateDetails& details) {
  std::string out;
  append_stored_state_details_text(out, details);
  return out;
}

std::string state_details_text(const StateDetails& details) {
  std::string out;
  out.reserve(512);
  append_state_details_text(out, details);
  return out;
}

}  // namespace runctl
