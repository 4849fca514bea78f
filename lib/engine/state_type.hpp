// The nine Prefect state types, and sets over them plus "no state" (NONE).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace runctl {

// Declaration order is Prefect's; it only matters for display.
enum class StateType : std::uint8_t {
  kScheduled,
  kPending,
  kRunning,
  kCompleted,
  kFailed,
  kCancelled,
  kCrashed,
  kPaused,
  kCancelling,
};

constexpr int kStateTypeCount = 9;

// A state type or "no state" (Prefect's None): the run has no state / nothing will be written.
using MaybeType = std::optional<StateType>;

// "RUNNING"
std::string_view type_name(StateType type);
// "RUNNING", or "NONE" for no state.
std::string_view type_name(MaybeType type);
// "Running": Prefect's default state name for a type.
std::string_view default_state_name(StateType type);
// Case-insensitive; "NONE" is not a type (see parse_maybe_type).
std::optional<StateType> parse_state_type(std::string_view text);
// Accepts the nine types and "NONE", case-insensitively.
std::optional<MaybeType> parse_maybe_type(std::string_view text);
// The error for a proposed type parse_state_type refused, with the nine it accepts:
// unknown state type "X" (expected SCHEDULED, PENDING, ... PAUSED or CANCELLING).
std::string unknown_state_type(std::string_view text);

constexpr bool is_final(StateType t) {
  return t == StateType::kCompleted || t == StateType::kFailed || t == StateType::kCancelled ||
         t == StateType::kCrashed;
}
constexpr bool is_final(MaybeType t) {
  return t && is_final(*t);
}

// A set over the nine types plus NONE, as Prefect's FROM_STATES / TO_STATES.
class StateTypeSet {
 public:
  constexpr StateTypeSet() = default;
  constexpr StateTypeSet(std::initializer_list<MaybeType> members) {
    for (MaybeType m : members) add(m);
  }
  static constexpr StateTypeSet all() { return StateTypeSet(kAllBits); }
  static constexpr StateTypeSet all_types() { return StateTypeSet(kAllBits & ~kNoneBit); }
  static constexpr StateTypeSet terminal() {
    return {StateType::kCompleted, StateType::kFailed, StateType::kCancelled, StateType::kCrashed};
  }

  constexpr void add(MaybeType t) { bits_ |= bit(t); }
  constexpr bool contains(MaybeType t) const { return (bits_ & bit(t)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool is_all() const { return bits_ == kAllBits; }
  constexpr StateTypeSet without(MaybeType t) const { return StateTypeSet(bits_ & ~bit(t)); }
  constexpr StateTypeSet operator|(StateTypeSet o) const { return StateTypeSet(bits_ | o.bits_); }
  constexpr bool operator==(const StateTypeSet&) const = default;

  // Members in declaration order, NONE last: ["SCHEDULED", ..., "NONE"]; "*" when all.
  std::string to_string() const;

  // Calls f(MaybeType) for every member, types in declaration order, NONE last.
  template <typename F>
  void for_each(F&& f) const {
    for (int i = 0; i < kStateTypeCount; ++i)
      if (bits_ & (1u << i)) f(MaybeType(static_cast<StateType>(i)));
    if (bits_ & kNoneBit) f(MaybeType());
  }

 private:
  static constexpr std::uint16_t kNoneBit = 1u << kStateTypeCount;
  static constexpr std::uint16_t kAllBits = (1u << (kStateTypeCount + 1)) - 1;
  constexpr explicit StateTypeSet(std::uint16_t bits) : bits_(bits) {}
  static constexpr std::uint16_t bit(MaybeType t) {
    return t ? static_cast<std::uint16_t>(1u << static_cast<int>(*t)) : kNoneBit;
  }
  std::uint16_t bits_ = 0;
};

}  // namespace runctl
