#include "cli/app.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <iostream>

#include "service/settings.hpp"
#include "util/error.hpp"

namespace runctl::cli {

const Clock& App::clock() {
  if (!clock_) {
    if (options.now) {
      auto t = parse_timestamp(*options.now);
      if (!t) throw Error(ErrorKind::kUsage, "--now: not an ISO 8601 date-time: " + *options.now);
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

Environment App::environment() {
  if (!settings_) {
    settings_.emplace();
    read_settings_from_environment(*settings_);
  }
  return Environment{clock(), uuids(), random(), *settings_};
}

std::unique_ptr<Database> App::open_db(OpenMode mode) const {
  return open_database(options.db, mode, OpenOptions{options.busy_timeout_ms});
}

std::string parse_run_id(const std::string& text) {
  auto id = normalize_uuid(text);
  if (!id) throw Error(ErrorKind::kBadData, "not a run id (a UUID): \"" + text + "\"");
  return *id;
}

std::string one_line(std::string text) {
  // Messages quote their input; a 100 KB argument must not become a 100 KB error line.
  constexpr std::size_t kMaxBytes = 1000;
  if (text.size() > kMaxBytes) {
    std::size_t cut = kMaxBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    text = text.substr(0, cut) + "... (" + std::to_string(text.size()) + " bytes)";
  }
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\0') c = ' ';
  return text;
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
