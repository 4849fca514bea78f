#include "cli/invocation.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unordered_set>

#include "cli/seed_option.hpp"
#include "service/settings.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

// The flag's value, else the environment variable's (an empty one counts as unset), with the
// name of whichever it came from, for messages.
std::optional<std::pair<std::string, std::string>> flag_or_env(
    const std::optional<std::string>& flag, const char* flag_name, const char* env_name) {
  if (flag) return std::make_pair(*flag, std::string(flag_name));
  const char* env = std::getenv(env_name);
  if (env && *env) return std::make_pair(std::string(env), std::string(env_name));
  return std::nullopt;
}

}  // namespace

const Clock& Invocation::clock() {
  if (!clock_) {
    if (const auto given = flag_or_env(options.now, "--now", "RUNCTL_NOW")) {
      const auto& [text, source] = *given;
      auto t = parse_timestamp(text);
      if (!t) throw Error(ErrorKind::kUsage, source + ": not an ISO 8601 date-time: " + text);
      clock_ = std::make_unique<FixedClock>(*t);
    } else {
      clock_ = std::make_unique<SystemClock>();
    }
  }
  return *clock_;
}

std::optional<std::uint64_t> seed_option(const GlobalOptions& options) {
  const auto given = flag_or_env(options.seed, "--seed", "RUNCTL_SEED");
  if (!given) return std::nullopt;
  const auto& [text, source] = *given;
  // Digits only: no sign (CLI11 took "-1" as 2^64-1), no spaces, nothing past 2^64-1.
  std::uint64_t seed = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, seed);
  if (text.empty() || text[0] < '0' || text[0] > '9' || ec != std::errc() || ptr != end)
    throw Error(ErrorKind::kUsage,
                source + ": expected an unsigned integer (0 to 18446744073709551615), got " + text);
  return seed;
}

RandomSource& Invocation::random() {
  if (!random_) {
    if (const std::optional<std::uint64_t> given = seed_option(options))
      random_ = std::make_unique<SeededRandom>(*given);
    else
      random_ = std::make_unique<SeededRandom>();
  }
  return *random_;
}

Environment Invocation::environment() {
  if (!settings_) {
    settings_.emplace();
    read_settings_from_environment(*settings_);
  }
  return Environment{clock(), uuids(), random(), *settings_};
}

std::unique_ptr<Database> Invocation::open_db(OpenMode mode) const {
  return open_database(options.db, mode, OpenOptions{options.busy_timeout_ms});
}

std::string parse_id(const std::string& text, const std::string& noun) {
  auto id = normalize_uuid(text);
  if (!id) throw Error(ErrorKind::kBadData, "not a " + noun + " id (a UUID): \"" + text + "\"");
  return *id;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::unordered_set<std::string> seen;  // an argument may hold 60,000 items
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string item(trim(std::string_view(text).substr(start, comma - start)));
    if (!item.empty() && seen.insert(item).second) items.push_back(std::move(item));
    start = comma + 1;
  }
  return items;
}

nlohmann::ordered_json type_set_to_json(const StateTypeSet& set) {
  auto out = nlohmann::ordered_json::array();
  set.for_each([&](MaybeType t) { out.push_back(type_name(t)); });
  return out;
}

void print_json(const nlohmann::ordered_json& value) {
  const bool tty = ::isatty(STDOUT_FILENO);
  std::cout << value.dump(tty ? 2 : -1, ' ', false,
                          nlohmann::ordered_json::error_handler_t::replace)
            << '\n';
}

}  // namespace runctl::cli
