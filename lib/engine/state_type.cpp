#include "engine/state_type.hpp"

#include <cctype>

namespace runctl {
namespace {

struct TypeNames {
  std::string_view upper;
  std::string_view default_name;
};

constexpr std::array<TypeNames, kStateTypeCount> kTypeNames = {{
    {"SCHEDULED", "Scheduled"},
    {"PENDING", "Pending"},
    {"RUNNING", "Running"},
    {"COMPLETED", "Completed"},
    {"FAILED", "Failed"},
    {"CANCELLED", "Cancelled"},
    {"CRASHED", "Crashed"},
    {"PAUSED", "Paused"},
    {"CANCELLING", "Cancelling"},
}};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) != b[i]) return false;
  return true;
}

}  // namespace

std::string_view type_name(StateType type) {
  return kTypeNames[static_cast<int>(type)].upper;
}

std::string_view type_name(MaybeType type) {
  return type ? type_name(*type) : "NONE";
}

std::string_view default_state_name(StateType type) {
  return kTypeNames[static_cast<int>(type)].default_name;
}

std::optional<StateType> parse_state_type(std::string_view text) {
  for (int i = 0; i < kStateTypeCount; ++i)
    if (equals_ignoring_case(text, kTypeNames[i].upper)) return static_cast<StateType>(i);
  return std::nullopt;
}

std::string unknown_state_type(std::string_view text) {
  std::string out = "unknown state type \"" + std::string(text) + "\" (expected ";
  for (int i = 0; i < kStateTypeCount; ++i)
    out.append(i == 0 ? "" : i + 1 == kStateTypeCount ? " or " : ", ").append(kTypeNames[i].upper);
  return out + ")";
}

std::optional<MaybeType> parse_maybe_type(std::string_view text) {
  if (equals_ignoring_case(text, "NONE")) return MaybeType();
  if (auto t = parse_state_type(text)) return MaybeType(*t);
  return std::nullopt;
}

std::string StateTypeSet::to_string() const {
  if (is_all()) return "*";
  std::string out = "[";
  for_each([&](MaybeType t) {
    if (out.size() > 1) out += ", ";
    out += type_name(t);
  });
  return out + "]";
}

}  // namespace runctl
