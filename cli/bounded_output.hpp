// --since and --limit: the bounded output of `history`, `log` and `events`, and the durations
// `flow-run list --older-than` and `prune --log-older-than` read.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/invocation.hpp"
#include "store/repositories.hpp"

namespace runctl::cli {

// The clock's time less a DURATION (90s, 15m, 1h30m, 2d, 3600). Throws Error(kUsage) naming
// `flag` when the text is not one.
Timestamp duration_ago(const Clock& clock, const std::string& text, const std::string& flag);

// The options as given; parsed by read_window, so that a bad value is reported in the house
// style (exit 64, one line) rather than by CLI11.
struct WindowFlags {
  std::optional<std::string> since;
  std::optional<std::string> limit;
};

// Adds --since and --limit to `cmd`; `noun` is what is listed ("states", "log entries").
void add_window_flags(CLI::App* cmd, WindowFlags& flags, const std::string& noun);

struct Window {
  ReadWindow read;                    // what to ask the store for
  std::optional<std::int64_t> limit;  // --limit as given
};

// --since is an ISO 8601 time, else a duration back from the clock (read only then). The store
// is asked for one entry more than --limit: that one says whether entries were cut.
Window read_window(Invocation& invocation, const WindowFlags& flags);

// Drops the oldest entries beyond the limit (the extra one read_window asked for); true when
// any were dropped.
template <typename T>
bool keep_newest(std::vector<T>& entries, const Window& window) {
  if (!window.limit || static_cast<std::int64_t>(entries.size()) <= *window.limit) return false;
  entries.erase(entries.begin(), entries.end() - static_cast<std::ptrdiff_t>(*window.limit));
  return true;
}

// The stderr line a text listing ends with when entries were cut, worded as `flow-run list`'s.
void note_truncated(std::int64_t limit, std::string_view noun);

}  // namespace runctl::cli
