// ctest runs each doctest case by name (doctest_discover_tests, tests/CMakeLists.txt). A name
// holding ';' is split by CMake into two tests that match nothing, and a '"' breaks the generated
// script, so such a case would silently never run under ctest.
#include <doctest/doctest.h>

#include <string>

#include "cli/process.hpp"

namespace runctl::clitest {
namespace {

TEST_CASE("test names: every case of both suites can be named on ctest's command line") {
  for (const std::string& binary : {std::string(RUNCTL_BUILD_DIR) + "/tests/runctl_unit_tests",
                                    std::string(RUNCTL_BUILD_DIR) + "/tests/runctl_cli_tests"}) {
    const ProcessResult listed = run_process({binary, "--list-test-cases"});
    REQUIRE(listed.exit_code == 0);
    std::size_t names = 0;
    std::size_t start = 0;
    while (start < listed.out.size()) {
      const std::size_t end = listed.out.find('\n', start);
      const std::string name = listed.out.substr(start, end - start);
      start = end == std::string::npos ? listed.out.size() : end + 1;
      if (name.empty() || name.starts_with("[doctest]") || name.starts_with("====")) continue;
      ++names;
      CHECK_MESSAGE(name.find_first_of(";\"\\") == std::string::npos, binary << ": " << name);
    }
    CHECK(names > 100);
  }
}

}  // namespace
}  // namespace runctl::clitest
