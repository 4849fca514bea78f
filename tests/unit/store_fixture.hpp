// Shared by the unit tests of lib/service/ that need a real database: a scratch SQLite database
// removed with its directory, an id source that lists what it minted, and runs created the way
// `flow-run create` creates them. Header-only.
#pragma once
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "service/runs.hpp"
#include "service/store_services.hpp"
#include "util/random.hpp"
#include "util/time.hpp"

namespace runctl::store_testing {

constexpr Timestamp kNow = 1'767'268'800LL * kMicrosPerSecond;  // 2026-01-01T12:00:00Z
constexpr Timestamp kSecond = kMicrosPerSecond;

// Ids 00000000-0000-4000-8000-000000000001, ...002, ...: every id minted is listed, in order.
class CountingUuids final : public UuidGenerator {
 public:
  std::vector<std::string> minted;
  std::string next() override {
    const std::string n = std::to_string(minted.size() + 1);
    minted.push_back("00000000-0000-4000-8000-" + std::string(12 - n.size(), '0') + n);
    return minted.back();
  }
};

// A scratch database, removed with its directory.
struct Db {
  std::string dir;
  std::unique_ptr<Database> store;
  Db() {
    char pattern[] = "/tmp/runctl_unit_store_XXXXXX";
    const char* made = mkdtemp(pattern);
    REQUIRE(made != nullptr);
    dir = made;
    store = open_database(dir + "/runs.db", OpenMode::kCreate);
  }
  ~Db() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

inline StateProposal proposal(StateType type) {
  StateProposal p;
  p.type = type;
  return p;
}

// `count` runs of `spec`, each with an initial state of `type` at `at`.
inline std::vector<CreatedRun> create(Database& store, const RunSpec& spec, int count,
                                      StateType type, Timestamp at, UuidGenerator& uuids) {
  FixedClock clock(at);
  SeededRandom random(1);
  const Environment env{clock, uuids, random};
  std::vector<CreatedRun> made = create_runs(store, spec, count, proposal(type), env);
  REQUIRE(made.size() == static_cast<std::size_t>(count));
  return made;
}

}  // namespace runctl::store_testing
