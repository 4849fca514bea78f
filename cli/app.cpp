#include "cli/app.hpp"

#include <cstdio>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.hpp"

namespace runctl::cli {

const Clock& App::clock() {
  if (!clock_) {
    if (options.now) {
      auto t = parse_timestamp(*options.now);
      if (!t)
        throw Error(ErrorKind::kUsage, "--now: not an ISO 8601 date-time: " + *options.now);
      clock_ = std::make_unique<FixedClock>(*t);
    } else {
      clock_ = std::make_unique<SystemClock>();
    }
  }
  return *clock_;
}

RandomSource& App::random() {
  if (!random_)
    random_ = options.seed ? std::make_unique<SeededRandom>(*options.seed)
                           : std::make_unique<SeededRandom>();
  return *random_;
}

Store App::open_store(Access access) const {
  StoreOptions o{options.db, options.busy_timeout_ms};
  if (access == Access::kCreate) return Store(o, OpenMode::kCreate);
  struct stat st{};
  if (::stat(options.db.c_str(), &st) != 0)
    throw Error(ErrorKind::kNotFound, "database not found: " + options.db);
  return Store(o, access == Access::kRead ? OpenMode::kRead : OpenMode::kCreate);
}

std::string parse_run_id(const std::string& text) {
  auto id = normalize_uuid(text);
  if (!id) throw Error(ErrorKind::kBadData, "not a run id (a UUID): \"" + text + "\"");
  return *id;
}

void print_json(const nlohmann::ordered_json& value) {
  const bool tty = ::isatty(STDOUT_FILENO);
  std::cout << value.dump(tty ? 2 : -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
            << '\n';
}

}  // namespace runctl::cli
