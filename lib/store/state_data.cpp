#include "store/state_data.hpp"

#include <stdexcept>
#include <utility>

#include "engine/state_json.hpp"  // truthy

namespace runctl {

std::string to_text(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool is_unpersisted(const Json& data) {
  if (!data.is_object()) return false;
  auto it = data.find("type");
  return it != data.end() && it->is_string() && it->get_ref<const std::string&>() == "unpersisted";
}

ArtifactFields take_artifact_fields(Json& data) {
  if (!data.is_object()) return {};
  const char* names[3] = {"artifact_key", "artifact_type", "artifact_description"};
  Json values[3];
  for (int i = 0; i < 3; ++i) {
    auto it = data.find(names[i]);
    if (it == data.end()) continue;
    values[i] = std::move(*it);
    data.erase(it);
  }
  std::optional<std::string> out[3];
  for (int i = 0; i < 3; ++i) {
    if (!truthy(values[i])) continue;  // Python truthiness decides whether a field is kept
    if (!values[i].is_string())
      throw std::invalid_argument(std::string("state data ") + names[i] +
                                  " must be a string, got " + to_text(values[i]));
    out[i] = values[i].get<std::string>();
  }
  return {out[0], out[1], out[2]};
}

}  // namespace runctl
