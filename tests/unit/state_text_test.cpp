// The direct JSON writers (engine/state_text) must write exactly the bytes the Json forms dump to.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>

#include "engine/state_json.hpp"
#include "engine/state_text.hpp"

namespace runctl {
namespace {

std::string dumped(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

State sample_state() {
  State s;
  s.id = "5516ca19-72ef-448e-bf30-bf7087809a0c";
  s.type = StateType::kScheduled;
  s.name = "AwaitingRetry";
  s.timestamp = 1'767'268'800'123'456LL;
  return s;
}

TEST_CASE("state text: the same bytes as state_to_json().dump()") {
  const std::vector<std::string> strings = {
      "",
      "plain",
      "quote \" and backslash \\",
      "tab\tnewline\ncarriage\rbell\x07 del\x7f",
      "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80",
      "invalid \xc3\x28 utf-8 \xff",
      std::string("nul \0 inside", 12),
  };
  for (const std::string& text : strings) {
    CAPTURE(text);
    State s = sample_state();
    s.name = text;
    s.message = text;
    s.details->cache_key = text;
    s.details->flow_run_id = "e32ded1e-7dd8-4caf-809e-f3a3808905bf";
    s.details->scheduled_time = 1'767'268'800'000'000LL;
    s.details->pause_timeout = -5;  // before the epoch
    s.details->deferred.reset();
    s.details->refresh_cache = true;
    s.details->retriable = false;
    s.details->untrackable_result = true;
    s.details->run_input_keyset = Json{{"k", text}};
    s.data = std::make_shared<Json>(Json{{"value", text}, {"n", 1.5}, {"list", {1, 2}}});
    std::string out;
    append_state_text(out, s);
    CHECK(out == dumped(state_to_json(s)));
    CHECK(state_details_text(*s.details) == dumped(state_details_to_json(*s.details)));
    std::string quoted;
    append_json_string(quoted, text);
    CHECK(quoted == dumped(Json(text)));
  }
  State bare = sample_state();
  std::string out;
  append_state_text(out, bare);
  CHECK(out == dumped(state_to_json(bare)));
  out.clear();
  append_state_text(out, StatePtr());
  CHECK(out == "null");
}

TEST_CASE("state text: stored details read back as apply_state_details reads them") {
  StateDetails d;
  d.flow_run_id = "e32ded1e-7dd8-4caf-809e-f3a3808905bf";
  d.task_run_id = "5516ca19-72ef-448e-bf30-bf7087809a0c";
  d.scheduled_time = 1'767'268'800'123'456LL;
  d.cache_key = "key with spaces";
  d.deferred.reset();
  d.untrackable_result = true;
  d.pause_reschedule = true;
  d.refresh_cache = false;
  d.traceparent = "00-abc-def-01";
  // Both the stored form (defaults left out) and the full form rows held before schema 5.
  for (const StateDetails& details : {StateDetails(), d}) {
    for (const std::string& text :
         {stored_state_details_text(details), state_details_text(details)}) {
      CAPTURE(text);
      StateDetails fast;
      fast.pause_key = "stale";  // overwritten: an absent key is its default
      REQUIRE(parse_stored_state_details(text, fast));
      StateDetails slow;
      apply_state_details(Json::parse(text), slow, "test");
      CHECK(fast == slow);
      CHECK(fast == details);
    }
  }
  CHECK(stored_state_details_text(StateDetails()) == "{}");
  CHECK(stored_state_details_text(d) ==
        "{\"flow_run_id\":\"e32ded1e-7dd8-4caf-809e-f3a3808905bf\",\"task_run_id\":"
        "\"5516ca19-72ef-448e-bf30-bf7087809a0c\",\"scheduled_time\":\"2026-01-01T12:00:00.123456+"
        "00:00\",\"cache_key\":\"key with spaces\",\"deferred\":null,\"untrackable_result\":true,"
        "\"pause_reschedule\":true,\"refresh_cache\":false,\"traceparent\":\"00-abc-def-01\"}");
  // Not what runctl writes, or not plainly valid: refused, and nothing is changed.
  const std::string canonical = state_details_text(d);
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = canonical;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  for (const std::string& text :
       {std::string("{"), std::string("{,}"), canonical + " ",
        replaced("{\"flow_run_id\"", "{\"task_run_id\":null,\"flow_run_id\""),  // out of order
        replaced("\"task_run_id\"", "\"task_run_ids\""),
        replaced("\"cache_key\"", "\"cache_key\" "), replaced("key with spaces", "k\\u00e9y"),
        replaced("e32ded1e-7dd8-4caf-809e-f3a3808905bf", "E32DED1E-7DD8-4CAF-809E-F3A3808905BF"),
        replaced("e32ded1e-7dd8-4caf-809e-f3a3808905bf", "not-a-uuid"),
        replaced("2026-01-01T12:00:00.123456+00:00", "2026-01-01T12:00:00Z"),
        replaced("\"run_input_keyset\":null", "\"run_input_keyset\":{\"a\":\"b\"}"),
        replaced("\"deferred\":null", "\"deferred\":1"), canonical.substr(1)}) {
    CAPTURE(text);
    StateDetails untouched;
    untouched.cache_key = "kept";
    CHECK_FALSE(parse_stored_state_details(text, untouched));
    CHECK(untouched.cache_key == "kept");
  }
}

TEST_CASE("state text: response details, every kind") {
  for (const ResponseDetails& d :
       {ResponseDetails::accept(), ResponseDetails::reject("no \"way\""),
        ResponseDetails::reject(std::nullopt), ResponseDetails::wait(-3, "later"),
        ResponseDetails::wait(INT64_MAX, std::nullopt), ResponseDetails::abort("stop")}) {
    std::string out;
    append_response_details_text(out, d);
    CHECK(out == dumped(response_details_to_json(d)));
  }
}

// What format_timestamp printed before it formatted digits by hand: the reference.
std::string printf_timestamp(Timestamp t) {
  using namespace std::chrono;
  const sys_time<microseconds> tp{microseconds{t}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const std::int64_t us = (tp - day).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lld+00:00",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long long>(us / 3'600'000'000LL),
                static_cast<long long>(us / 60'000'000 % 60),
                static_cast<long long>(us / 1'000'000 % 60),
                static_cast<long long>(us % 1'000'000));
  return buf;
}

TEST_CASE("state text: timestamps across the range parse_timestamp accepts, and outside it") {
  for (const Timestamp t :
       {Timestamp{0}, Timestamp{-1}, Timestamp{1}, Timestamp{999'999},
        Timestamp{1'767'268'800'123'456LL}, *parse_timestamp("0001-01-01T00:00:00Z"),
        *parse_timestamp("9999-12-31T23:59:59.999999Z"), Timestamp{-62'135'596'800'000'001LL},
        Timestamp{253'402'300'800'000'000LL}}) {
    CAPTURE(t);
    std::string appended = "x";
    append_timestamp(appended, t);
    std::string expected = "x";
    expected += format_timestamp(t);
    CHECK(appended == expected);
    CHECK(format_timestamp(t) == printf_timestamp(t));
    if (auto back = parse_timestamp(format_timestamp(t)); back) CHECK(*back == t);
  }
}

}  // namespace
}  // namespace runctl
