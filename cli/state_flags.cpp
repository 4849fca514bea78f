#include "cli/state_flags.hpp"

#include "engine/state_json.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

Json parse_json_flag(const std::string& flag, const std::string& text) {
  // Checked before parsing: a deeply nested document parses fine but overflows the stack of
  // whatever copies or prints it later.
  if (auto problem = json_depth_problem(text))
    throw Error(ErrorKind::kBadData, flag + ": not valid JSON: " + *problem);
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what.erase(0, pos + 2);
    throw Error(ErrorKind::kBadData, flag + ": not valid JSON: " + what);
  }
}

bool is_bare_word(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
          c == '+'))
      return false;
  return true;
}

}  // namespace

void check_text_flag(const std::string& flag, const std::optional<std::string>& value,
                     std::size_t max_bytes) {
  if (!value) return;
  if (auto problem = text_problem(*value, max_bytes))
    throw Error(ErrorKind::kBadData, flag + ": " + *problem);
}

void add_state_flags(CLI::App* command, StateFlags& flags, const std::string& prefix) {
  // set-state takes --state-name and --state-message as the create commands do, and keeps its
  // older --name and --message.
  const auto names = [&](const std::string& field) {
    return prefix.empty() ? "--state-" + field + ",--" + field : "--" + prefix + field;
  };
  command->add_option(names("name"), flags.name,
                      "state name (default: the type's name, e.g. Running)");
  command->add_option(names("message"), flags.message, "state message");
  command->add_option("--details", flags.details,
                      "state_details as a JSON object, e.g. '{\"cache_key\": \"k\"}'");
  command->add_option("--data", flags.data, "result data, any JSON value");
  command->add_option("--scheduled-time", flags.scheduled_time,
                      "state_details.scheduled_time, ISO 8601");
  command->add_option("--cache-key", flags.cache_key, "state_details.cache_key");
  command->add_option("--cache-expiration", flags.cache_expiration,
                      "state_details.cache_expiration, ISO 8601");
  command->add_option("--pause-key", flags.pause_key, "state_details.pause_key");
  command->add_option("--pause-timeout", flags.pause_timeout,
                      "state_details.pause_timeout, ISO 8601");
  command->add_option("--pause-reschedule", flags.pause_reschedule,
                      "state_details.pause_reschedule (true|false)");
  command->add_option("--transition-id", flags.transition_id,
                      "state_details.transition_id, a UUID");
}

bool has_state_fields(const StateFlags& f) {
  return f.name || f.message || f.details || f.data || f.scheduled_time || f.cache_key ||
         f.cache_expiration || f.pause_key || f.pause_timeout || f.transition_id ||
         f.pause_reschedule;
}

StateProposal to_proposal(const StateFlags& flags) {
  StateProposal p;
  auto type = parse_state_type(flags.type);
  if (!type) throw Error(ErrorKind::kBadData, unknown_state_type(flags.type));
  p.type = *type;
  // Names and keys come from argv, so they cannot hold NUL but can be any bytes at any length.
  check_text_flag("state name", flags.name, kMaxNameBytes);
  check_text_flag("state message", flags.message, kMaxMessageBytes);
  check_text_flag("--cache-key", flags.cache_key, kMaxNameBytes);
  check_text_flag("--pause-key", flags.pause_key, kMaxNameBytes);
  p.name = flags.name;
  p.message = flags.message;
  if (flags.details) {
    const Json details = parse_json_flag("--details", *flags.details);
    check_state_details_keys(details, "--details");
    apply_state_details(details, p.details, "--details");
  }
  if (flags.data) p.data = parse_json_flag("--data", *flags.data);
  // The sugar flags go through the same checks as --details, so errors read alike.
  Json sugar = Json::object();
  auto put = [&](const char* key, const std::optional<std::string>& v) {
    if (v) sugar[key] = *v;
  };
  put("scheduled_time", flags.scheduled_time);
  put("cache_key", flags.cache_key);
  put("cache_expiration", flags.cache_expiration);
  put("pause_key", flags.pause_key);
  put("pause_timeout", flags.pause_timeout);
  put("transition_id", flags.transition_id);
  if (flags.pause_reschedule) sugar["pause_reschedule"] = *flags.pause_reschedule;
  if (!sugar.empty()) apply_state_details(sugar, p.details, "state flags");
  return p;
}

Json parse_parameters(const std::vector<std::string>& params) {
  Json out = Json::object();
  for (const std::string& kv : params) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorKind::kBadData, "--param " + kv + ": expected KEY=JSON");
    const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    check_text_flag("--param key", key, kMaxNameBytes);
    if (auto problem = json_depth_problem(value))
      throw Error(ErrorKind::kBadData, "--param " + key + ": not valid JSON: " + *problem);
    try {
      out[key] = Json::parse(value);
    } catch (const Json::exception&) {
      if (!is_bare_word(value))
        throw Error(ErrorKind::kBadData, "--param " + key + ": not valid JSON: " + value);
      out[key] = value;
    }
  }
  return out;
}

}  // namespace runctl::cli
