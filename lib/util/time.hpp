// Timestamps: microseconds since the Unix epoch, UTC, rendered as Prefect renders them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace runctl {

// Microseconds since 1970-01-01T00:00:00Z. Microsecond precision matches Prefect's datetimes,
// so equality (the unique (run, timestamp) index) and the +1 µs bump are exact.
using Timestamp = std::int64_t;

constexpr Timestamp kMicrosPerSecond = 1'000'000;

// "2026-01-01T12:00:00.000000+00:00"
std::string format_timestamp(Timestamp t);
// The same text, appended: hot paths write many timestamps into one buffer.
void append_timestamp(std::string& out, Timestamp t);

// Accepts ISO 8601 date-times: "YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]" followed by "Z", "+HH:MM",
// "-HH:MM" or nothing (UTC assumed), and a bare date "YYYY-MM-DD". Years 0001..9999 only.
// Returns nullopt for anything else.
std::optional<Timestamp> parse_timestamp(std::string_view text);

// "90s", "15m", "1h30m", "2d", "1w", or bare seconds ("3600", "0.5"): a length of time in
// microseconds, >= 0. Returns nullopt for anything else (a unit missing between numbers, an
// unknown unit, a negative or overflowing length).
std::optional<Timestamp> parse_duration(std::string_view text);

// Where "now" comes from. Rules read time only through the context's clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp now() const override;
};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(Timestamp t) : t_(t) {}
  Timestamp now() const override { return t_; }

 private:
  Timestamp t_;
};

// Python's datetime.isoformat() of a UTC time: "2026-01-01T12:00:00+00:00", with ".ffffff" only
// when the microseconds are not zero.
std::string python_isoformat(Timestamp t);

}  // namespace runctl
