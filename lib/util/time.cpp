#include "util/time.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>

namespace runctl {
namespace {

// Howard Hinnant's civil-date algorithms: exact for the proleptic Gregorian calendar.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool is_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly n digits at pos; false if any is not a digit.
bool read_digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

// "00" to "99", for writing two digits at once.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::string format_timestamp(Timestamp t) {
  std::string out;
  append_timestamp(out, t);
  return out;
}

void append_timestamp(std::string& out, Timestamp t) {
  std::int64_t days = t / (86400 * kMicrosPerSecond);
  std::int64_t rem = t % (86400 * kMicrosPerSecond);
  if (rem < 0) {
    rem += 86400 * kMicrosPerSecond;
    --days;
  }
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  const std::int64_t secs = rem / kMicrosPerSecond;
  const std::int64_t micros = rem % kMicrosPerSecond;
  char buf[64];
  if (y < 0 || y > 9999) {
    // Outside what parse_timestamp accepts; printf's rules for wide or negative years apply.
    const int n =
        std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lld+00:00",
                      static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                      static_cast<long long>(micros));
    out.append(buf, static_cast<std::size_t>(n));
    return;
  }
  // Fixed-width digits by hand, two at a time: snprintf was most of the cost of writing a state
  // row, and a digit at a time was still a visible share of a transition.
  char* p = buf;
  auto two = [&p](unsigned v) {
    std::memcpy(p, kDigitPairs + 2 * v, 2);
    p += 2;
  };
  const auto sec = static_cast<unsigned>(secs);
  const auto us = static_cast<unsigned>(micros);
  two(static_cast<unsigned>(y) / 100);
  two(static_cast<unsigned>(y) % 100);
  *p++ = '-';
  two(m);
  *p++ = '-';
  two(d);
  *p++ = 'T';
  two(sec / 3600);
  *p++ = ':';
  two(sec / 60 % 60);
  *p++ = ':';
  two(sec % 60);
  *p++ = '.';
  two(us / 10000);
  two(us / 100 % 100);
  two(us % 100);
  std::memcpy(p, "+00:00", 6);
  p += 6;
  out.append(buf, static_cast<std::size_t>(p - buf));
}

namespace {

struct Fields {
  int year, month, day, hour = 0, minute = 0, second = 0;
  std::int64_t micros = 0, offset_minutes = 0;
};

std::optional<Timestamp> from_fields(const Fields& f) {
  if (f.year < 1 || f.month < 1 || f.month > 12 || f.day < 1 ||
      static_cast<unsigned>(f.day) > days_in_month(f.year, static_cast<unsigned>(f.month)))
    return std::nullopt;
  if (f.hour > 23 || f.minute > 59 || f.second > 59) return std::nullopt;
  const std::int64_t days =
      days_from_civil(f.year, static_cast<unsigned>(f.month), static_cast<unsigned>(f.day));
  const std::int64_t seconds =
      days * 86400 + f.hour * 3600 + f.minute * 60 + f.second - f.offset_minutes * 60;
  const Timestamp result = seconds * kMicrosPerSecond + f.micros;
  // An offset can push a year-1 or year-9999 time outside what we can print back.
  static const Timestamp kMin = days_from_civil(1, 1, 1) * 86400 * kMicrosPerSecond;
  static const Timestamp kMax = days_from_civil(10000, 1, 1) * 86400 * kMicrosPerSecond - 1;
  if (result < kMin || result > kMax) return std::nullopt;
  return result;
}

// What format_timestamp writes, and so what every stored timestamp is:
// "YYYY-MM-DDTHH:MM:SS.ffffff+00:00", read at fixed positions. Text of that length and with those
// separators whose digit places hold anything else goes to the general parser, which says no.
bool has_canonical_separators(std::string_view s) {
  return s.size() == 32 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
         s[16] == ':' && s[19] == '.' && s.substr(26) == "+00:00";
}

// The n digits at pos, or -1 if any is not a digit.
int number_at(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    const unsigned digit = static_cast<unsigned>(s[i]) - '0';
    if (digit > 9) return -1;
    v = v * 10 + static_cast<int>(digit);
  }
  return v;
}

}  // namespace

std::optional<Timestamp> parse_timestamp(std::string_view s) {
  Fields f;
  if (has_canonical_separators(s)) {
    f.year = number_at(s, 0, 4);
    f.month = number_at(s, 5, 2);
    f.day = number_at(s, 8, 2);
    f.hour = number_at(s, 11, 2);
    f.minute = number_at(s, 14, 2);
    f.second = number_at(s, 17, 2);
    f.micros = number_at(s, 20, 6);
    if ((f.year | f.month | f.day | f.hour | f.minute | f.second | f.micros) >= 0)
      return from_fields(f);
    f = Fields{};
  }
  size_t pos = 0;
  if (!read_digits(s, pos, 4, f.year) || !expect(s, pos, '-') || !read_digits(s, pos, 2, f.month) ||
      !expect(s, pos, '-') || !read_digits(s, pos, 2, f.day))
    return std::nullopt;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!read_digits(s, pos, 2, f.hour) || !expect(s, pos, ':') ||
        !read_digits(s, pos, 2, f.minute))
      return std::nullopt;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!read_digits(s, pos, 2, f.second)) return std::nullopt;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        size_t digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          // Digits past microseconds are truncated, as Python's fromisoformat does.
          if (digits < 6) f.micros = f.micros * 10 + (s[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (size_t i = digits; i < 6; ++i) f.micros *= 10;
      }
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        const int sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int oh, om;
        if (!read_digits(s, pos, 2, oh)) return std::nullopt;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (!read_digits(s, pos, 2, om) || oh > 23 || om > 59) return std::nullopt;
        f.offset_minutes = sign * (oh * 60 + om);
      } else {
        return std::nullopt;
      }
    }
    if (pos != s.size()) return std::nullopt;
  }
  return from_fields(f);
}

Timestamp SystemClock::now() const {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::optional<Timestamp> parse_duration(std::string_view text) {
  struct Unit {
    char name;
    double micros;
  };
  constexpr Unit kUnits[] = {
      {'s', 1e6}, {'m', 60e6}, {'h', 3600e6}, {'d', 86400e6}, {'w', 604800e6}};
  if (text.empty()) return std::nullopt;
  double total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    const std::string number(text.substr(start, i - start));
    if (number.empty() || number.front() == '.' || number.back() == '.' ||
        number.find('.') != number.rfind('.'))
      return std::nullopt;
    double unit = 0;
    if (i == text.size()) {
      if (start != 0) return std::nullopt;  // "1h30": the unit of 30 is missing
      unit = 1e6;
    } else {
      for (const Unit& u : kUnits)
        if (text[i] == u.name) unit = u.micros;
      if (unit == 0) return std::nullopt;
      ++i;
    }
    total += std::stod(number) * unit;
  }
  if (!(total < 9.0e18)) return std::nullopt;
  return static_cast<Timestamp>(total);
}

std::string python_isoformat(Timestamp t) {
  std::string text = format_timestamp(t);  // "YYYY-MM-DDTHH:MM:SS.ffffff+00:00"
  const std::size_t dot = text.find('.');
  if (dot != std::string::npos && text.compare(dot, 7, ".000000") == 0) text.erase(dot, 7);
  return text;
}

}  // namespace runctl
