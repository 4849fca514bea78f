#include "cli/app.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <iostream>

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

Store App::open_store(Access access) const {
  StoreOptions o{options.db, options.busy_timeout_ms};
  if (access == Access::kCreate) return Store(o, OpenMode::kCreate);
  struct stat st {};
  if (::stat(options.db.c_str(), &st) != 0)
    throw Error(ErrorKind::kNotFound, "database not found: " + options.db);
  // An empty file is no database yet: only init and the create commands may turn it into one, so
  // a command that needs an existing database reads it as it is and leaves it untouched.
  const bool empty = st.st_size == 0;
  return Store(o, access == Access::kRead || empty ? OpenMode::kRead : OpenMode::kCreate);
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
