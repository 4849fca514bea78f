// State types, their names, parsing, and sets over them plus NONE (lib/engine/state_type.cpp).
// Also the response names (lib/engine/response.cpp), which are of the same kind: fixed tables.
#include "engine/state_type.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <string>
#include <vector>

#include "engine/response.hpp"

namespace runctl {
namespace {

using Strings = std::vector<std::string>;

struct Expected {
  StateType type;
  const char* upper;
  const char* name;
  bool final;
};

// As prefect.server.schemas.states has them: StateType's declaration order, which types are
// terminal, and each type's default state name.
const Expected kExpected[] = {
    {StateType::kScheduled, "SCHEDULED", "Scheduled", false},
    {StateType::kPending, "PENDING", "Pending", false},
    {StateType::kRunning, "RUNNING", "Running", false},
    {StateType::kCompleted, "COMPLETED", "Completed", true},
    {StateType::kFailed, "FAILED", "Failed", true},
    {StateType::kCancelled, "CANCELLED", "Cancelled", true},
    {StateType::kCrashed, "CRASHED", "Crashed", true},
    {StateType::kPaused, "PAUSED", "Paused", false},
    {StateType::kCancelling, "CANCELLING", "Cancelling", false},
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST_CASE("state types: names, default names, finality, in declaration order") {
  CHECK(kStateTypeCount == 9);
  int index = 0;
  for (const Expected& e : kExpected) {
    CAPTURE(e.upper);
    CHECK(static_cast<int>(e.type) == index++);
    CHECK(type_name(e.type) == e.upper);
    CHECK(type_name(MaybeType(e.type)) == e.upper);
    CHECK(default_state_name(e.type) == e.name);
    CHECK(is_final(e.type) == e.final);
    CHECK(is_final(MaybeType(e.type)) == e.final);
  }
  CHECK(type_name(MaybeType()) == "NONE");
  CHECK_FALSE(is_final(MaybeType()));
}

TEST_CASE("parse_state_type: case-insensitive, the nine types only") {
  for (const Expected& e : kExpected) {
    CAPTURE(e.upper);
    CHECK(parse_state_type(e.upper) == e.type);
    CHECK(parse_state_type(lower(e.upper)) == e.type);
    CHECK(parse_state_type(e.name) == e.type);  // "Running": mixed case
  }
  CHECK_FALSE(parse_state_type("NONE").has_value());
  CHECK_FALSE(parse_state_type("").has_value());
  CHECK_FALSE(parse_state_type("RUN").has_value());
  CHECK_FALSE(parse_state_type("RUNNINGX").has_value());
  CHECK_FALSE(parse_state_type(" RUNNING").has_value());
  CHECK_FALSE(parse_state_type("Late").has_value());  // a state name, not a type
}

TEST_CASE("unknown_state_type: the refused text, then the nine types in declaration order") {
  CHECK(unknown_state_type("RUNING") ==
        "unknown state type \"RUNING\" (expected SCHEDULED, PENDING, RUNNING, COMPLETED, "
        "FAILED, CANCELLED, CRASHED, PAUSED or CANCELLING)");
  CHECK(unknown_state_type("") ==
        "unknown state type \"\" (expected SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, "
        "CANCELLED, CRASHED, PAUSED or CANCELLING)");
}

TEST_CASE("parse_maybe_type: the nine types and NONE") {
  const auto none = parse_maybe_type("none");
  REQUIRE(none.has_value());       // recognised...
  CHECK_FALSE(none->has_value());  // ...as "no state"
  CHECK(parse_maybe_type("NONE") == std::optional<MaybeType>(MaybeType()));
  CHECK(parse_maybe_type("cancelling") == std::optional<MaybeType>(StateType::kCancelling));
  CHECK_FALSE(parse_maybe_type("null").has_value());
  CHECK_FALSE(parse_maybe_type("").has_value());
}

TEST_CASE("StateTypeSet: all, all_types, terminal, empty") {
  const StateTypeSet all = StateTypeSet::all();
  const StateTypeSet types = StateTypeSet::all_types();
  const StateTypeSet terminal = StateTypeSet::terminal();
  for (const Expected& e : kExpected) {
    CAPTURE(e.upper);
    CHECK(all.contains(e.type));
    CHECK(types.contains(e.type));
    CHECK(terminal.contains(e.type) == e.final);
    CHECK_FALSE(StateTypeSet{}.contains(e.type));
  }
  CHECK(all.contains(MaybeType()));
  CHECK_FALSE(types.contains(MaybeType()));
  CHECK_FALSE(terminal.contains(MaybeType()));
  CHECK(all.is_all());
  CHECK_FALSE(types.is_all());
  CHECK(StateTypeSet{}.empty());
  CHECK_FALSE(StateTypeSet{MaybeType()}.empty());
  CHECK(types == all.without(MaybeType()));
  CHECK((types | StateTypeSet{MaybeType()}) == all);
}

TEST_CASE("StateTypeSet: add, without, duplicates") {
  StateTypeSet s{StateType::kRunning, StateType::kRunning};
  CHECK(s == StateTypeSet{StateType::kRunning});
  s.add(MaybeType());
  CHECK(s.contains(MaybeType()));
  CHECK(s.contains(StateType::kRunning));
  CHECK_FALSE(s.contains(StateType::kPending));
  const StateTypeSet without_running = s.without(StateType::kRunning);
  CHECK_FALSE(without_running.contains(StateType::kRunning));
  CHECK(without_running.contains(MaybeType()));
  CHECK(s.contains(StateType::kRunning));  // without() returns a new set
  CHECK(StateTypeSet{}.without(StateType::kFailed).empty());
}

TEST_CASE("StateTypeSet::to_string: declaration order, NONE last, * for all") {
  CHECK(StateTypeSet::all().to_string() == "*");
  CHECK(StateTypeSet{}.to_string() == "[]");
  CHECK((StateTypeSet{MaybeType(), StateType::kCancelling, StateType::kScheduled}.to_string()) ==
        "[SCHEDULED, CANCELLING, NONE]");
  CHECK(StateTypeSet::terminal().to_string() == "[COMPLETED, FAILED, CANCELLED, CRASHED]");
  CHECK(StateTypeSet::all_types().to_string() ==
        "[SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, CRASHED, PAUSED, "
        "CANCELLING]");
}

TEST_CASE("StateTypeSet::for_each visits members in declaration order, NONE last") {
  Strings seen;
  StateTypeSet{MaybeType(), StateType::kPaused, StateType::kPending}.for_each(
      [&](MaybeType t) { seen.emplace_back(type_name(t)); });
  CHECK(seen == Strings{"PENDING", "PAUSED", "NONE"});
  int count = 0;
  StateTypeSet::all().for_each([&](MaybeType) { ++count; });
  CHECK(count == 10);
}

TEST_CASE("StateTypeSet is usable at compile time") {
  constexpr StateTypeSet s{StateType::kRunning};
  static_assert(s.contains(StateType::kRunning));
  static_assert(!s.contains(MaybeType()));
  static_assert(StateTypeSet::all().is_all());
  CHECK(s.contains(StateType::kRunning));
}

TEST_CASE("response names: statuses and details types") {
  CHECK(status_name(SetStateStatus::kAccept) == "ACCEPT");
  CHECK(status_name(SetStateStatus::kReject) == "REJECT");
  CHECK(status_name(SetStateStatus::kWait) == "WAIT");
  CHECK(status_name(SetStateStatus::kAbort) == "ABORT");
  CHECK(details_type_name(ResponseDetails::Kind::kAccept) == "accept_details");
  CHECK(details_type_name(ResponseDetails::Kind::kReject) == "reject_details");
  CHECK(details_type_name(ResponseDetails::Kind::kWait) == "wait_details");
  CHECK(details_type_name(ResponseDetails::Kind::kAbort) == "abort_details");
  const ResponseDetails wait = ResponseDetails::wait(20, "No!");
  CHECK(wait.kind == ResponseDetails::Kind::kWait);
  CHECK(wait.delay_seconds == 20);
  CHECK(wait.reason == "No!");
  CHECK(ResponseDetails::accept() == ResponseDetails{});
  CHECK_FALSE(ResponseDetails::reject("x") == ResponseDetails::abort("x"));
}

}  // namespace
}  // namespace runctl
