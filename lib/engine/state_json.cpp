#include "engine/state_json.hpp"

#include "util/error.hpp"
#include "util/text.hpp"
#include "util/uuid.hpp"

namespace runctl {

bool truthy(const Json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<std::int64_t>() != 0;
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() != 0;
  if (v.is_number_float()) return v.get<double>() != 0.0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return !v.empty();  // arrays, objects
}
namespace {

template <typename T>
Json optional_json(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json optional_time(const std::optional<Timestamp>& t) {
  return t ? Json(format_timestamp(*t)) : Json(nullptr);
}

[[noreturn]] void bad(const std::string& where, const std::string& key, const std::string& what) {
  throw Error(ErrorKind::kBadData, where + "." + key + ": " + what);
}

// One table row per field: how to read it from JSON. Keeps the parser a loop, not 18 branches.
enum class FieldType { kUuid, kString, kTime, kBool, kOptionalBool, kStringMap };

struct FieldSpec {
  const char* key;
  FieldType type;
  void* (*member)(StateDetails&);
};

#define RUNCTL_FIELD(name, type)                                   \
  FieldSpec {                                                      \
#name, type, [](StateDetails & d) -> void* { return &d.name; } \
  }

const FieldSpec kFields[] = {
    RUNCTL_FIELD(flow_run_id, FieldType::kUuid),
    RUNCTL_FIELD(task_run_id, FieldType::kUuid),
    RUNCTL_FIELD(child_flow_run_id, FieldType::kUuid),
    RUNCTL_FIELD(scheduled_time, FieldType::kTime),
    RUNCTL_FIELD(cache_key, FieldType::kString),
    RUNCTL_FIELD(cache_expiration, FieldType::kTime),
    RUNCTL_FIELD(deferred, FieldType::kOptionalBool),
    RUNCTL_FIELD(untrackable_result, FieldType::kBool),
    RUNCTL_FIELD(pause_timeout, FieldType::kTime),
    RUNCTL_FIELD(pause_reschedule, FieldType::kBool),
    RUNCTL_FIELD(pause_key, FieldType::kString),
    RUNCTL_FIELD(run_input_keyset, FieldType::kStringMap),
    RUNCTL_FIELD(refresh_cache, FieldType::kOptionalBool),
    RUNCTL_FIELD(retriable, FieldType::kOptionalBool),
    RUNCTL_FIELD(transition_id, FieldType::kUuid),
    RUNCTL_FIELD(task_parameters_id, FieldType::kUuid),
    RUNCTL_FIELD(traceparent, FieldType::kString),
    RUNCTL_FIELD(deployment_concurrency_lease_id, FieldType::kUuid),
};

#undef RUNCTL_FIELD

void read_field(const FieldSpec& f, const Json& v, StateDetails& d, const std::string& where) {
  void* member = f.member(d);
  switch (f.type) {
    case FieldType::kUuid: {
      auto& out = *static_cast<std::optional<std::string>*>(member);
      if (v.is_null()) return out.reset();
      if (!v.is_string()) bad(where, f.key, "expected a UUID string");
      auto id = normalize_uuid(v.get<std::string>());
      if (!id) bad(where, f.key, "not a UUID: " + v.get<std::string>());
      out = *id;
      return;
    }
    case FieldType::kString: {
      auto& out = *static_cast<std::optional<std::string>*>(member);
      if (v.is_null()) return out.reset();
      if (!v.is_string()) bad(where, f.key, "expected a string");
      // Keys (cache_key, pause_key) are stored and compared as TEXT: no NUL, no megabytes.
      if (auto problem = text_problem(v.get_ref<const std::string&>(), kMaxNameBytes))
        bad(where, f.key, *problem);
      out = v.get<std::string>();
      return;
    }
    case FieldType::kTime: {
      auto& out = *static_cast<std::optional<Timestamp>*>(member);
      if (v.is_null()) return out.reset();
      if (!v.is_string()) bad(where, f.key, "expected an ISO 8601 date-time string");
      auto t = parse_timestamp(v.get<std::string>());
      if (!t) bad(where, f.key, "not an ISO 8601 date-time: " + v.get<std::string>());
      out = *t;
      return;
    }
    case FieldType::kBool: {
      auto& out = *static_cast<bool*>(member);
      if (!v.is_boolean()) bad(where, f.key, "expected true or false");
      out = v.get<bool>();
      return;
    }
    case FieldType::kOptionalBool: {
      auto& out = *static_cast<std::optional<bool>*>(member);
      if (v.is_null()) return out.reset();
      if (!v.is_boolean()) bad(where, f.key, "expected true, false or null");
      out = v.get<bool>();
      return;
    }
    case FieldType::kStringMap: {
      auto& out = *static_cast<std::optional<Json>*>(member);
      if (v.is_null()) return out.reset();
      if (!v.is_object()) bad(where, f.key, "expected an object of strings");
      for (const auto& [k, item] : v.items())
        if (!item.is_string()) bad(where, std::string(f.key) + "." + k, "expected a string");
      out = v;
      return;
    }
  }
}

}  // namespace

Json state_details_to_json(const StateDetails& d) {
  return Json{
      {"flow_run_id", optional_json(d.flow_run_id)},
      {"task_run_id", optional_json(d.task_run_id)},
      {"child_flow_run_id", optional_json(d.child_flow_run_id)},
      {"scheduled_time", optional_time(d.scheduled_time)},
      {"cache_key", optional_json(d.cache_key)},
      {"cache_expiration", optional_time(d.cache_expiration)},
      {"deferred", optional_json(d.deferred)},
      {"untrackable_result", d.untrackable_result},
      {"pause_timeout", optional_time(d.pause_timeout)},
      {"pause_reschedule", d.pause_reschedule},
      {"pause_key", optional_json(d.pause_key)},
      {"run_input_keyset", d.run_input_keyset ? *d.run_input_keyset : Json(nullptr)},
      {"refresh_cache", optional_json(d.refresh_cache)},
      {"retriable", optional_json(d.retriable)},
      {"transition_id", optional_json(d.transition_id)},
      {"task_parameters_id", optional_json(d.task_parameters_id)},
      {"traceparent", optional_json(d.traceparent)},
      {"deployment_concurrency_lease_id", optional_json(d.deployment_concurrency_lease_id)},
  };
}

void apply_state_details(const Json& object, StateDetails& details, const std::string& where) {
  if (!object.is_object()) throw Error(ErrorKind::kBadData, where + ": expected a JSON object");
  for (const FieldSpec& f : kFields) {
    auto it = object.find(f.key);
    if (it != object.end()) read_field(f, *it, details, where);
  }
}

void check_state_details_keys(const Json& object, const std::string& where) {
  if (!object.is_object()) return;  // apply_state_details says what is wrong with it
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const FieldSpec& f : kFields) known = known || key == f.key;
    if (known) continue;
    std::vector<std::string> names;
    for (const FieldSpec& f : kFields) names.emplace_back(f.key);
    std::string hint = did_you_mean(key, names);
    if (hint.empty()) {
      for (const std::string& n : names) hint += (hint.empty() ? " (known keys: " : ", ") + n;
      hint += ")";
    }
    throw Error(ErrorKind::kBadData, where + ": unknown key \"" + key + "\"" + hint);
  }
}

Json state_to_json(const State& s) {
  return Json{
      {"id", s.id},
      {"type", type_name(s.type)},
      {"name", s.name},
      {"message", optional_json(s.message)},
      {"timestamp", format_timestamp(s.timestamp)},
      {"state_details", state_details_to_json(*s.details)},
      {"data", s.data ? *s.data : Json(nullptr)},
  };
}

Json state_to_json(const StatePtr& s) {
  return s ? state_to_json(*s) : Json(nullptr);
}

Json response_details_to_json(const ResponseDetails& d) {
  return Json{{"type", details_type_name(d.kind)},
              {"reason", optional_json(d.reason)},
              {"delay_seconds", optional_json(d.delay_seconds)}};
}

}  // namespace runctl
