// Timestamps (lib/util/time.cpp): Prefect's rendering, ISO 8601 parsing, calendar checks, clocks.
#include "util/time.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

namespace runctl {
namespace {

constexpr Timestamp kNoon = 1'767'268'800LL * kMicrosPerSecond;      // 2026-01-01T12:00:00Z
constexpr Timestamp kMidnight = 1'767'225'600LL * kMicrosPerSecond;  // 2026-01-01T00:00:00Z

TEST_CASE("format_timestamp: microseconds, always +00:00") {
  CHECK(format_timestamp(0) == "1970-01-01T00:00:00.000000+00:00");
  CHECK(format_timestamp(kNoon) == "2026-01-01T12:00:00.000000+00:00");
  CHECK(format_timestamp(kNoon + 123456) == "2026-01-01T12:00:00.123456+00:00");
  CHECK(format_timestamp(kNoon + 1) == "2026-01-01T12:00:00.000001+00:00");
  // Before the epoch the division must floor, not truncate.
  CHECK(format_timestamp(-1) == "1969-12-31T23:59:59.999999+00:00");
  CHECK(format_timestamp(-kMicrosPerSecond * 86400) == "1969-12-31T00:00:00.000000+00:00");
}

TEST_CASE("parse_timestamp and format_timestamp round-trip") {
  const char* const texts[] = {
      "1970-01-01T00:00:00.000000+00:00", "2026-01-01T12:00:00.123456+00:00",
      "2024-02-29T23:59:59.999999+00:00", "2000-02-29T00:00:00.000000+00:00",
      "0001-01-01T00:00:00.000000+00:00", "9999-12-31T23:59:59.999999+00:00",
      "1969-07-20T20:17:40.000000+00:00",
  };
  for (const char* text : texts) {
    CAPTURE(text);
    const auto t = parse_timestamp(text);
    REQUIRE(t.has_value());
    CHECK(format_timestamp(*t) == text);
  }
  for (Timestamp t : {Timestamp(0), kNoon, kNoon + 999999, Timestamp(-1), Timestamp(-123456789)}) {
    CAPTURE(t);
    CHECK(parse_timestamp(format_timestamp(t)) == t);
  }
}

TEST_CASE("format_timestamp and parse_timestamp agree on every day of four centuries") {
  // One instant a day from 1800 to 2200, each with a different time of day and microsecond, so
  // every digit place of the written form takes every value.
  const Timestamp kDay = 86400 * kMicrosPerSecond;
  const Timestamp first = *parse_timestamp("1800-01-01T00:00:00.000000+00:00");
  const Timestamp last = *parse_timestamp("2200-01-01T00:00:00.000000+00:00");
  int checked = 0;
  for (Timestamp day = first; day < last; day += kDay, ++checked) {
    const Timestamp t = day + (checked * 7919LL % 86400) * kMicrosPerSecond + checked % 1000000;
    const std::string text = format_timestamp(t);
    CAPTURE(text);
    REQUIRE(text.size() == 32);
    REQUIRE(parse_timestamp(text) == t);
  }
  CHECK(checked == 146097);  // the days in 400 Gregorian years
}

TEST_CASE("parse_timestamp: the written form is checked like any other") {
  CHECK_FALSE(parse_timestamp("2026-02-30T00:00:00.000000+00:00").has_value());
  CHECK_FALSE(parse_timestamp("2025-02-29T00:00:00.000000+00:00").has_value());
  CHECK_FALSE(parse_timestamp("2026-13-01T00:00:00.000000+00:00").has_value());
  CHECK_FALSE(parse_timestamp("2026-00-01T00:00:00.000000+00:00").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-00T00:00:00.000000+00:00").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T24:00:00.000000+00:00").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:60:00.000000+00:00").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:60.000000+00:00").has_value());
  CHECK_FALSE(parse_timestamp("0000-01-01T00:00:00.000000+00:00").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:00.00000x+00:00").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:00.0000-0+00:00").has_value());
  CHECK_FALSE(parse_timestamp("20a6-01-01T12:00:00.000000+00:00").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:00.000000+00:01").value() ==
              parse_timestamp("2026-01-01T12:00:00.000000+00:00").value());
}

TEST_CASE("parse_timestamp: offsets, Z and the date-time separator") {
  CHECK(parse_timestamp("2026-01-01T12:00:00Z") == kNoon);
  CHECK(parse_timestamp("2026-01-01t12:00:00z") == kNoon);
  CHECK(parse_timestamp("2026-01-01 12:00:00") == kNoon);  // no offset: UTC
  CHECK(parse_timestamp("2026-01-01T14:00:00+02:00") == kNoon);
  CHECK(parse_timestamp("2026-01-01T14:00:00+0200") == kNoon);
  CHECK(parse_timestamp("2026-01-01T06:30:00-05:30") == kNoon);
  CHECK(parse_timestamp("2026-01-01T12:00:00-00:00") == kNoon);
  // An offset can move the instant to another day.
  CHECK(parse_timestamp("2026-01-01T01:00:00+02:00") == kMidnight - 3600 * kMicrosPerSecond);
  CHECK(parse_timestamp("2026-01-01T12:00") == kNoon);  // seconds are optional
  CHECK(parse_timestamp("2026-01-01T12:00+01:00") == kNoon - 3600 * kMicrosPerSecond);
  CHECK(parse_timestamp("2026-01-01") == kMidnight);  // a bare date is midnight UTC
}

TEST_CASE("parse_timestamp: fractional seconds of any length") {
  CHECK(parse_timestamp("2026-01-01T12:00:00.5Z") == kNoon + 500000);
  CHECK(parse_timestamp("2026-01-01T12:00:00.05Z") == kNoon + 50000);
  CHECK(parse_timestamp("2026-01-01T12:00:00.123Z") == kNoon + 123000);
  CHECK(parse_timestamp("2026-01-01T12:00:00.000001Z") == kNoon + 1);
  // Digits past microseconds are dropped, not rounded.
  CHECK(parse_timestamp("2026-01-01T12:00:00.1234569Z") == kNoon + 123456);
  CHECK(parse_timestamp("2026-01-01T12:00:00.999999999") == kNoon + 999999);
  CHECK(parse_timestamp("2026-01-01T12:00:00,25") == kNoon + 250000);
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:00.Z").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:00.").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00.5").has_value());  // a fraction needs seconds
}

TEST_CASE("parse_timestamp: invalid calendar dates") {
  CHECK_FALSE(parse_timestamp("2026-02-30").has_value());
  CHECK_FALSE(parse_timestamp("2026-02-30T00:00:00Z").has_value());
  CHECK_FALSE(parse_timestamp("2025-02-29").has_value());  // not a leap year
  CHECK_FALSE(parse_timestamp("1900-02-29").has_value());  // centuries are not, unless /400
  CHECK(parse_timestamp("2000-02-29").has_value());
  CHECK(parse_timestamp("2024-02-29").has_value());
  CHECK_FALSE(parse_timestamp("2026-04-31").has_value());
  CHECK(parse_timestamp("2026-12-31").has_value());
  CHECK_FALSE(parse_timestamp("2026-13-01").has_value());
  CHECK_FALSE(parse_timestamp("2026-00-10").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-00").has_value());
}

TEST_CASE("parse_timestamp: invalid times and offsets") {
  CHECK_FALSE(parse_timestamp("2026-01-01T24:00:00Z").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:60:00Z").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:60Z").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:00+24:00").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:00+05:60").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:00+05").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:00Zx").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12:00:00 ").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T12").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01T").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01X12:00:00").has_value());
}

TEST_CASE("parse_timestamp: malformed text") {
  CHECK_FALSE(parse_timestamp("").has_value());
  CHECK_FALSE(parse_timestamp("not a date").has_value());
  CHECK_FALSE(parse_timestamp("2026-1-01").has_value());
  CHECK_FALSE(parse_timestamp("2026/01/01").has_value());
  CHECK_FALSE(parse_timestamp(" 2026-01-01").has_value());
  CHECK_FALSE(parse_timestamp("2026-01-01Z").has_value());
  CHECK_FALSE(parse_timestamp("1767268800").has_value());
}

TEST_CASE("parse_timestamp: years 0001 to 9999 only, offsets included") {
  CHECK_FALSE(parse_timestamp("0000-01-01").has_value());
  CHECK_FALSE(parse_timestamp("10000-01-01").has_value());
  CHECK_FALSE(parse_timestamp("-0001-01-01").has_value());
  // An offset must not push the instant outside what format_timestamp can print.
  CHECK_FALSE(parse_timestamp("0001-01-01T00:00:00+00:01").has_value());
  CHECK_FALSE(parse_timestamp("9999-12-31T23:59:59-00:01").has_value());
  const auto earliest = parse_timestamp("0001-01-01T00:00:00-00:01");
  REQUIRE(earliest.has_value());
  CHECK(format_timestamp(*earliest) == "0001-01-01T00:01:00.000000+00:00");
  const auto latest = parse_timestamp("9999-12-31T23:59:59.999999+00:01");
  REQUIRE(latest.has_value());
  CHECK(format_timestamp(*latest) == "9999-12-31T23:58:59.999999+00:00");
}

TEST_CASE("clocks") {
  const FixedClock fixed(kNoon);
  CHECK(fixed.now() == kNoon);
  CHECK(fixed.now() == kNoon);  // fixed: does not move
  const SystemClock system;
  const Timestamp a = system.now();
  // After 2020-01-01 and in microseconds (not seconds or nanoseconds).
  CHECK(a > 1'577'836'800LL * kMicrosPerSecond);
  CHECK(a < kMidnight * 2);
  CHECK(system.now() >= a);
}

}  // namespace
}  // namespace runctl
