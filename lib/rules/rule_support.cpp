#include "rules/rule_support.hpp"

#include "util/version.hpp"

namespace runctl {

bool has_persisted_result(const std::shared_ptr<Json>& data) {
  if (!data || !data->is_object()) return false;
  auto it = data->find("type");
  return it == data->end() || !(it->is_string() && it->get<std::string>() == "unpersisted");
}

bool task_has_persisted_result(const std::shared_ptr<Json>& data) {
  if (!truthy(data)) return false;
  if (!data->is_object())
    throw HookError("'" +
                    std::string(data->is_string()         ? "str"
                                : data->is_array()        ? "list"
                                : data->is_boolean()      ? "bool"
                                : data->is_number_float() ? "float"
                                                          : "int") +
                    "' object has no attribute 'get'");
  auto it = data->find("type");
  return it == data->end() || !(it->is_string() && it->get<std::string>() == "unpersisted");
}

namespace {

std::optional<Version> api_version(const Json& parameters) {
  if (parameters.empty()) return std::nullopt;  // most requests send none: skip the lookup
  auto it = parameters.find("api-version");
  if (it == parameters.end() || it->is_null()) return std::nullopt;
  const std::string text = it->is_string() ? it->get<std::string>() : it->dump();
  auto v = parse_version(text);
  if (!v) throw HookError("Invalid version: '" + text + "'");
  return v;
}

}  // namespace

bool api_version_at_least(const Json& parameters, std::string_view minimum) {
  auto v = api_version(parameters);
  return !v || compare_versions(*v, *parse_version(minimum)) >= 0;
}

bool api_version_below(const Json& parameters, std::string_view threshold) {
  auto v = api_version(parameters);
  return v && compare_versions(*v, *parse_version(threshold)) < 0;
}

void update_run_policy(Run& run, const Json& changes) {
  Json p = run.empirical_policy.is_object() ? run.empirical_policy : Json::object();
  for (const auto& [k, v] : changes.items()) p[k] = v;
  // Prefect's FlowRunPolicy / TaskRunPolicy validators back-fill the deprecated fields.
  auto falsy = [&](const char* k) { return !p.contains(k) || !truthy(p[k]); };
  if (falsy("retries") && p.contains("max_retries") && truthy(p["max_retries"]))
    p["retries"] = p["max_retries"];
  if (falsy("retry_delay") && p.contains("retry_delay_seconds") && truthy(p["retry_delay_seconds"]))
    p["retry_delay"] = p["retry_delay_seconds"];
  run.empirical_policy = std::move(p);
}

std::string python_state_type(StateType t) {
  return "StateType." + std::string(type_name(t));
}

}  // namespace runctl
