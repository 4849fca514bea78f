// Prefect's numeric conventions (lib/engine/intervals.cpp): half-to-even rounding, the
// WaitForScheduledTime delay, the clamped Poisson jitter and the per-attempt retry delay lookup.
// Expected values were computed with CPython.
#include "engine/intervals.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "engine/context.hpp"
#include "rule_services_fixture.hpp"

namespace runctl::testing {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const HookError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("round_half_even matches Python's round()") {
  CHECK(round_half_even(0.5) == 0);
  CHECK(round_half_even(1.5) == 2);
  CHECK(round_half_even(2.5) == 2);
  CHECK(round_half_even(3.5) == 4);
  CHECK(round_half_even(-0.5) == 0);
  CHECK(round_half_even(-1.5) == -2);
  CHECK(round_half_even(-2.5) == -2);
  CHECK(round_half_even(2.4999999) == 2);
  CHECK(round_half_even(2.5000001) == 3);
  CHECK(round_half_even(-2.6) == -3);
  CHECK(round_half_even(7.0) == 7);
  CHECK(round_half_even(0.0) == 0);
  CHECK(round_half_even(1e300) == 1e300);
}

TEST_CASE("add_seconds rounds to the microsecond and refuses dates past year 9999") {
  CHECK(add_seconds(kNow, 10) == kNow + 10 * kSecond);
  CHECK(add_seconds(kNow, 0.5) == kNow + kSecond / 2);
  CHECK(add_seconds(kNow, 1e-6) == kNow + 1);
  CHECK(add_seconds(kNow, 0.0000025) == kNow + 2);  // 2.5 µs: half to even
  CHECK(add_seconds(kNow, 0.0000035) == kNow + 4);
  CHECK(add_seconds(kNow, -3) == kNow - 3 * kSecond);
  CHECK(error_of([] { add_seconds(kNow, 1e13); }) == "date value out of range");
  CHECK(error_of([] { add_seconds(kNow, -1e12); }) == "date value out of range");
  CHECK(error_of([] { add_seconds(kNow, INFINITY); }) == "date value out of range");
}

TEST_CASE("WaitForScheduledTime rounding: whole seconds, the fraction rounded half-to-even") {
  auto wait = [](double seconds) {
    return scheduled_wait_seconds(kNow + static_cast<Timestamp>(std::llround(seconds * 1e6)), kNow);
  };
  CHECK(wait(4.4) == 4);
  CHECK(wait(4.6) == 5);
  CHECK(wait(0.5) == 0);  // exactly one half rounds down: no wait
  CHECK(wait(0.6) == 1);
  CHECK(wait(-0.3) == 0);
  CHECK(wait(299.9999) == 300);
  CHECK(wait(300) == 300);
  CHECK(wait(1.5) == 1);  // the fraction alone is rounded, not the total (Python: 1 + round(0.5))
  CHECK(wait(0.500001) == 1);
  CHECK(wait(-1.7) == -2);  // floor(-1.7) = -2, fraction 0.3 rounds to 0
  CHECK(wait(-1.2) == -1);  // floor -2, fraction 0.8 rounds up
  CHECK(wait(0) == 0);
  CHECK(scheduled_wait_seconds(kNow + 1, kNow) == 0);
  CHECK(scheduled_wait_seconds(kNow - 1, kNow) == 0);  // -1 µs: floor -1, fraction .999999 -> 0
}

TEST_CASE("clamped_poisson_bounds: [avg * log2(2^k / (2^k - 1)), avg * k] with k = 1 + factor") {
  PoissonBounds b = clamped_poisson_bounds(10, 9);
  CHECK(b.upper == doctest::Approx(100).epsilon(1e-15));
  CHECK(b.lower == doctest::Approx(0.014095702546713523).epsilon(1e-12));
  b = clamped_poisson_bounds(10, 0.3);
  CHECK(b.upper == doctest::Approx(13.0));
  CHECK(b.lower == doctest::Approx(7.517717039771911).epsilon(1e-12));
  // k >= 50: Prefect returns 0 for the lower multiple to avoid overflow.
  b = clamped_poisson_bounds(2, 49);
  CHECK(b.lower == 0.0);
  CHECK(b.upper == doctest::Approx(100));
  CHECK(clamped_poisson_bounds(0, 1).upper == 0.0);  // bounds alone do not divide
}

TEST_CASE("clamped_poisson_interval: one uniform draw between the bounds' CDF values") {
  ScriptedRandom mid(0.5);
  CHECK(clamped_poisson_interval(10, 9, mid) == doctest::Approx(6.945112878787951).epsilon(1e-12));
  REQUIRE(mid.calls.size() == 1);
  CHECK(mid.calls[0].first == doctest::Approx(1 - std::exp(-0.0014095702546713523)));
  CHECK(mid.calls[0].second == doctest::Approx(1 - std::exp(-10.0)));
  ScriptedRandom top(1.0), bottom(0.0), mid03(0.5);
  CHECK(clamped_poisson_interval(10, 9, top) == doctest::Approx(99.9999999999987).epsilon(1e-12));
  CHECK(clamped_poisson_interval(10, 9, bottom) ==
        doctest::Approx(0.01409570254671378).epsilon(1e-12));
  CHECK(clamped_poisson_interval(10, 0.3, mid03) ==
        doctest::Approx(9.887778354591742).epsilon(1e-12));
}

TEST_CASE("SeededRandom(n) draws what CPython draws after random.seed(n)") {
  // random.seed(n); random.uniform(0, 1); random.uniform(2, 5) in CPython.
  struct Case {
    std::uint64_t seed;
    double first;
    double second;
  };
  const Case cases[] = {
      {0, 0.8444218515250481, 4.273863208820908},
      {1, 0.13436424411240122, 4.542301210811698},
      {42, 0.6394267984578837, 2.0750322656680007},
      {4294967296ULL, 0.11299430095636409, 3.253486594588785},
      {18446744073709551615ULL, 0.021825695401270107, 3.0142859805841273},
  };
  for (const Case& c : cases) {
    CAPTURE(c.seed);
    SeededRandom random(c.seed);
    CHECK(random.uniform(0, 1) == c.first);
    CHECK(random.uniform(2, 5) == c.second);
  }
}

TEST_CASE("clamped_poisson_interval with a seeded source matches Prefect under random.seed") {
  // random.seed(2); clamped_poisson_interval(10, 9) and random.seed(7);
  // clamped_poisson_interval(30) in CPython with Prefect's prefect.utilities.math.
  SeededRandom two(2);
  CHECK(clamped_poisson_interval(10, 9, two) == doctest::Approx(31.247663002447496).epsilon(1e-12));
  SeededRandom seven(7);
  CHECK(clamped_poisson_interval(30, 0.3, seven) ==
        doctest::Approx(26.96176737530769).epsilon(1e-12));
}

TEST_CASE("clamped_poisson_interval stays within [lower, upper] over many seeded draws") {
  for (double avg : {0.001, 1.0, 10.0, 30.0, 3600.0}) {
    for (double factor : {0.01, 0.3, 1.0, 9.0, 60.0}) {
      CAPTURE(avg);
      CAPTURE(factor);
      const PoissonBounds b = clamped_poisson_bounds(avg, factor);
      SeededRandom random(1234);
      // Rounding in exp/log can overshoot a bound by a few ulps; nothing more.
      const double slack = 1e-9 * b.upper;
      for (int i = 0; i < 2000; ++i) {
        const double v = clamped_poisson_interval(avg, factor, random);
        REQUIRE(v >= b.lower - slack);
        REQUIRE(v <= b.upper + slack);
      }
    }
  }
}

TEST_CASE("clamped_poisson_interval raises as Python does") {
  ScriptedRandom r(0.5);
  CHECK(error_of([&] { clamped_poisson_interval(10, 0, r); }) == "`clamping_factor` must be >= 0.");
  CHECK(error_of([&] { clamped_poisson_interval(10, -1, r); }) ==
        "`clamping_factor` must be >= 0.");
  CHECK(error_of([&] { clamped_poisson_interval(0, 0.3, r); }) == "float division by zero");
  CHECK(r.calls.empty());
}

TEST_CASE(
    "RetryFailedTasks' delay lookup: "
    "list[min(rc - 1, len - 1)] with Python negative indexing") {
  const Json list = Json::array({2, 3, 5, 7, 11});
  for (int rc = 1; rc <= 5; ++rc) CHECK(retry_base_delay(list, rc) == list[rc - 1].get<double>());
  CHECK(retry_base_delay(list, 6) == 11);  // past the end: the last element
  CHECK(retry_base_delay(list, 100) == 11);
  CHECK(retry_base_delay(list, 0) == 11);  // index -1: the last element
  CHECK(retry_base_delay(list, -1) == 7);  // index -2
  CHECK(retry_base_delay(list, -4) == 2);  // index -5
  CHECK(error_of([&] { retry_base_delay(list, -5); }) == "list index out of range");
  CHECK(error_of([] { retry_base_delay(Json::array(), 1); }) == "list index out of range");
  CHECK(error_of([] { retry_base_delay(Json::array(), 0); }) == "list index out of range");
  CHECK(retry_base_delay(Json::array({2, 3, 5, 7}), 6) == 7);
  CHECK(retry_base_delay(Json::array({2.5}), 3) == 2.5);
}

TEST_CASE("RetryFailedTasks' delay lookup: a number is used as is, null as 0") {
  CHECK(retry_base_delay(Json(10), 1) == 10);
  CHECK(retry_base_delay(Json(10), 0) == 10);
  CHECK(retry_base_delay(Json(2.5), 7) == 2.5);
  CHECK(retry_base_delay(Json(nullptr), 3) == 0);
  CHECK(retry_base_delay(Json(0), 3) == 0);
  CHECK(error_of([] { retry_base_delay(Json("ten"), 1); }).find("retry_delay") !=
        std::string::npos);
  CHECK(error_of([] { retry_base_delay(Json::array({"x"}), 1); }).find("retry_delay") !=
        std::string::npos);
}

}  // namespace
}  // namespace runctl::testing
