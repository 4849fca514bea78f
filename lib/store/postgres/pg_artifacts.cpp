#include "store/postgres/pg_artifacts.hpp"

#include <cstdint>
#include <stdexcept>

#include "store/postgres/pg_text.hpp"

namespace runctl::pg {

bool is_unpersisted(const Json& data) {
  if (!data.is_object()) return false;
  auto it = data.find("type");
  return it != data.end() && it->is_string() && it->get_ref<const std::string&>() == "unpersisted";
}

bool truthy(const Json& j) {
  if (j.is_null()) return false;
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer() || j.is_number_unsigned()) return j.get<std::int64_t>() != 0;
  if (j.is_number_float()) return j.get<double>() != 0.0;
  if (j.is_string()) return !j.get_ref<const std::string&>().empty();
  return !j.empty();  // arrays, objects, binary
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
    if (!truthy(values[i])) continue;
    if (!values[i].is_string())
      throw std::invalid_argument(std::string("state data ") + names[i] +
                                  " must be a string, got " + to_text(values[i]));
    out[i] = values[i].get<std::string>();
  }
  return {out[0], out[1], out[2]};
}

}  // namespace runctl::pg
