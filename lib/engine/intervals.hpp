// The numeric conventions of Prefect's scheduling rules: jittered intervals
// (prefect.utilities.math.clamped_poisson_interval), the scheduled-time wait rounding, Python's
// rounding, and the per-attempt retry delay lookup.
// Each reproduces Python's arithmetic, because the delays are part of the observable result.
#pragma once
#include <cstdint>

#include "engine/state.hpp"
#include "util/random.hpp"
#include "util/time.hpp"

namespace runctl {

// Python's round(x) on a float: to the nearest integer, exact halves to the even neighbour.
double round_half_even(double x);

// `t` plus a duration in seconds, rounded to the microsecond as Python's timedelta(seconds=x) is.
// Throws HookError("date value out of range") past Python's datetime range (years 1..9999).
Timestamp add_seconds(Timestamp t, double seconds);

// The interval a clamped Poisson draw of `average` with `clamping_factor` can take.
struct PoissonBounds {
  double lower;
  double upper;
};
// Throws HookError with Python's message for a factor <= 0.
PoissonBounds clamped_poisson_bounds(double average, double clamping_factor);

// A draw from an exponential distribution of mean `average`, restricted to clamped_poisson_bounds
// by drawing the uniform variate between the bounds' CDF values, as Prefect's
// clamped_poisson_interval does. One uniform() call.
// Throws HookError as Python raises: a factor <= 0, or an average of 0 (it divides by it).
double clamped_poisson_interval(double average, double clamping_factor, RandomSource& random);

// WaitForScheduledTime's delay: whole seconds from `now` to `scheduled`, the fraction
// rounded up only when it exceeds one half (Python rounds the microsecond part half-to-even).
// Zero or negative means "no wait".
std::int64_t scheduled_wait_seconds(Timestamp scheduled, Timestamp now);

// RetryFailedTasks' base delay, before any jitter: for a list, the element at
// min(run_count - 1, len - 1) with Python's negative indexing (run_count 0 picks the last);
// for a number, the number; for null, 0. An empty list, an index out of range or a non-numeric
// value throws HookError, as Python's IndexError/TypeError would.
double retry_base_delay(const Json& retry_delay, int run_count);

}  // namespace runctl
