#include "cli/bounded_output.hpp"

#include <charconv>
#include <cstdint>
#include <iostream>

#include "util/error.hpp"

namespace runctl::cli {
namespace {

std::int64_t parse_limit(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || stop != end || value < 1)
    throw Error(ErrorKind::kUsage, "--limit: expected a positive integer, got " + text);
  return value;
}

Timestamp parse_since(Invocation& invocation, const std::string& text) {
  if (const std::optional<Timestamp> at = parse_timestamp(text)) return *at;
  if (parse_duration(text)) return duration_ago(invocation.clock(), text, "--since");
  throw Error(ErrorKind::kUsage,
              "--since: expected an ISO 8601 time or a duration such as 90s, 15m, 1h30m or 2d, "
              "got \"" +
                  text + "\"");
}

}  // namespace

Timestamp duration_ago(const Clock& clock, const std::string& text, const std::string& flag) {
  const std::optional<Timestamp> length = parse_duration(text);
  if (!length)
    throw Error(ErrorKind::kUsage,
                flag + ": expected a duration such as 90s, 15m, 1h30m or 2d, got \"" + text + "\"");
  return clock.now() - *length;
}

void add_window_flags(CLI::App* cmd, WindowFlags& flags, const std::string& noun) {
  cmd->add_option("--since", flags.since,
                  "only " + noun +
                      " at or after this time: ISO 8601, or a duration back from the clock "
                      "(90s, 15m, 1h30m, 2d)");
  cmd->add_option("--limit", flags.limit,
                  "only the N most recent " + noun + " (N >= 1), in the usual order");
}

Window read_window(Invocation& invocation, const WindowFlags& flags) {
  Window window;
  if (flags.limit) {
    window.limit = parse_limit(*flags.limit);
    window.read.newest = *window.limit + (*window.limit < INT64_MAX ? 1 : 0);
  }
  if (flags.since) window.read.since = parse_since(invocation, *flags.since);
  return window;
}

void note_truncated(std::int64_t limit, std::string_view noun) {
  std::cerr << "runctl: the last " << limit << ' ' << noun
            << " are shown and more match (use --limit for more)\n";
}

}  // namespace runctl::cli
