#include "engine/intervals.hpp"

#include <algorithm>
#include <cmath>

#include "engine/context.hpp"

namespace runctl {
namespace {

// Python's `1 - math.exp(-(1 / average) * x)`, kept in the same operation order so results match
// Python's doubles.
double exponential_cdf(double x, double average) {
  const double rate = 1.0 / average;
  return 1.0 - std::exp(-rate * x);
}

// Python's math.log(max(2**k / (2**k - 1), 1e-10), 2); large k would overflow, Prefect returns 0.
double lower_clamp_multiple(double k) {
  if (k >= 50) return 0.0;
  const double p = std::pow(2.0, k);
  // math.log(x, 2) is log(x) / log(2), which can differ from log2(x) in the last bit.
  return std::log(std::max(p / (p - 1.0), 1e-10)) / std::log(2.0);
}

double number_at(const Json& v) {
  if (v.is_number()) return v.get<double>();
  throw HookError("unsupported retry_delay value: " + v.dump());
}

}  // namespace

double round_half_even(double x) {
  if (!std::isfinite(x)) return x;
  const double lower = std::floor(x);
  const double diff = x - lower;  // exact for doubles: both share x's exponent range
  if (diff > 0.5) return lower + 1.0;
  if (diff < 0.5) return lower;
  return std::fmod(lower, 2.0) == 0.0 ? lower : lower + 1.0;
}

Timestamp add_seconds(Timestamp t, double seconds) {
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: Python's datetime.min / max.
  constexpr Timestamp kMin = -62'135'596'800LL * kMicrosPerSecond;
  constexpr Timestamp kMax = 253'402'300'800LL * kMicrosPerSecond - 1;
  if (!std::isfinite(seconds) || std::fabs(seconds) > 1e12)
    throw HookError("date value out of range");
  // As timedelta does: whole seconds exactly, then the fraction rounded to the microsecond.
  double whole = 0;
  const double fraction = std::modf(seconds, &whole);
  const Timestamp micros = static_cast<Timestamp>(whole) * kMicrosPerSecond +
                           static_cast<Timestamp>(round_half_even(fraction * 1e6));
  if (micros > 0 ? t > kMax - micros : t < kMin - micros)
    throw HookError("date value out of range");
  return t + micros;
}

PoissonBounds clamped_poisson_bounds(double average, double clamping_factor) {
  if (clamping_factor <= 0) throw HookError("`clamping_factor` must be >= 0.");
  const double upper_multiple = 1.0 + clamping_factor;
  const double upper = average * upper_multiple;
  const double lower = std::max(0.0, average * lower_clamp_multiple(upper_multiple));
  return {lower, upper};
}

double clamped_poisson_interval(double average, double clamping_factor, RandomSource& random) {
  const PoissonBounds b = clamped_poisson_bounds(average, clamping_factor);
  if (average == 0) throw HookError("float division by zero");
  const double high = exponential_cdf(b.upper, average);
  const double low = exponential_cdf(b.lower, average);
  const double u = random.uniform(low, high);
  return -std::log(std::max(1.0 - u, 1e-10)) * average;
}

std::int64_t scheduled_wait_seconds(Timestamp scheduled, Timestamp now) {
  const std::int64_t d = scheduled - now;
  // Floor division, so the remainder is Python's timedelta.microseconds: always in [0, 1 s).
  std::int64_t whole = d / kMicrosPerSecond;
  std::int64_t frac = d % kMicrosPerSecond;
  if (frac < 0) {
    whole -= 1;
    frac += kMicrosPerSecond;
  }
  return whole + (frac > kMicrosPerSecond / 2 ? 1 : 0);
}

double retry_base_delay(const Json& retry_delay, int run_count) {
  if (!retry_delay.is_array()) {
    // `delay or 0`
    if (retry_delay.is_null() || (retry_delay.is_boolean() && !retry_delay.get<bool>())) return 0;
    return number_at(retry_delay);
  }
  const auto len = static_cast<std::int64_t>(retry_delay.size());
  std::int64_t index = std::min<std::int64_t>(static_cast<std::int64_t>(run_count) - 1, len - 1);
  if (index < 0) index += len;
  if (index < 0 || index >= len) throw HookError("list index out of range");
  return number_at(retry_delay[static_cast<std::size_t>(index)]);
}

}  // namespace runctl
