// Reliability property 5, in `make test`: the fuzzers' seeds and every input that once crashed
// a fuzz target (tests/fuzz_corpus/TARGET/regression-*) replayed through the built runctl, as
// the fuzz targets feed them. Each must give a documented exit code, never a crash (a signal)
// or an internal error (74). The fuzzers themselves need clang: scripts/fuzz.sh.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "cli_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFlowRun = "11111111-1111-4111-8111-111111111111";  // fuzz/apply_fuzzer.cpp
constexpr const char* kTaskRun = "22222222-2222-4222-8222-222222222222";

std::vector<fs::path> corpus(const std::string& target) {
  const fs::path dir = fs::path(__FILE__).parent_path().parent_path() / "fuzz_corpus" / target;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

bool one_of(int code, std::initializer_list<int> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

struct Fixture {
  CliDb db;
  Fixture() {
    REQUIRE(db.run({"init"}).exit_code == 0);
    REQUIRE(db.run({"flow-run", "create", "--id", kFlowRun, "--state", "PENDING"}).exit_code == 0);
    REQUIRE(db.run({"task-run", "create", "--id", kTaskRun, "--flow-run", kFlowRun, "--state",
                    "PENDING"})
                .exit_code == 0);
  }
};

TEST_CASE("reliability: fuzz corpus replay: policy files") {
  Fixture f;
  const auto files = corpus("policy_file");
  REQUIRE(!files.empty());
  for (const fs::path& file : files) {
    CAPTURE(file.filename().string());
    const ProcessResult show = f.db.run({"policy", "show", file.string(), "--json"});
    INFO("stderr: " << show.err.substr(0, 500));
    CHECK(one_of(show.exit_code, {0, 78}));
    if (show.exit_code == 0) {
      const ProcessResult r =
          f.db.run({"set-state", kFlowRun, "RUNNING", "--policy", file.string()});
      CHECK(one_of(r.exit_code, {0, 1, 2, 3, 65, 70}));
    }
  }
}

TEST_CASE("reliability: fuzz corpus replay: state flags") {
  Fixture f;
  const auto files = corpus("state_flags");
  REQUIRE(!files.empty());
  for (const fs::path& file : files) {
    CAPTURE(file.filename().string());
    // The fuzzer's format: TYPE \n DETAILS \n DATA \n KEY=JSON \n NAME.
    const std::string bytes = *reliability::file_bytes(file.string());
    if (bytes.find('\0') != std::string::npos) continue;  // argv cannot carry a NUL byte
    std::vector<std::string> field(1);
    for (char c : bytes) {
      if (c == '\n' && field.size() < 5)
        field.emplace_back();
      else
        field.back().push_back(c);
    }
    field.resize(5);
    std::vector<std::string> args{"set-state", kFlowRun, field[0]};
    if (!field[1].empty()) args.insert(args.end(), {"--details", field[1]});
    if (!field[2].empty()) args.insert(args.end(), {"--data", field[2]});
    if (!field[3].empty()) args.insert(args.end(), {"--param", field[3]});
    if (!field[4].empty()) args.insert(args.end(), {"--name", field[4]});
    const ProcessResult r = f.db.run(args);
    INFO("stderr: " << r.err.substr(0, 500));
    CHECK(one_of(r.exit_code, {0, 1, 2, 3, 64, 65, 70}));
  }
}

TEST_CASE("reliability: fuzz corpus replay: apply (JSON Lines)") {
  Fixture f;
  const auto files = corpus("apply");
  REQUIRE(!files.empty());
  for (const fs::path& file : files) {
    CAPTURE(file.filename().string());
    const ProcessResult r = f.db.run(
        {"--now", "2026-01-01T00:00:10Z", "--seed", "1", "apply", "--json", file.string()});
    INFO("stderr: " << r.err.substr(0, 500));
    CHECK(one_of(r.exit_code, {0, 1, 2, 3, 65, 66, 70}));
    // A SQLite file's own check; a PostgreSQL server keeps its pages consistent itself.
    if (!f.db.is_postgres()) CHECK(reliability::integrity(f.db.path()) == "ok");
  }
}

}  // namespace
}  // namespace runctl::clitest
