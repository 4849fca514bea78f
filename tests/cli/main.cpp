// The CLI suite's main: the backend is checked once before any test (test_backend.hpp), so a
// run on PostgreSQL without a server is one clear skip, or a failure under CI, rather than
// every test failing on its own.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <iostream>
#include <string>

#include "cli/test_backend.hpp"

int main(int argc, char** argv) {
  std::string why;
  if (const auto code = runctl::clitest::backend_gate(why)) {
    std::cerr << "runctl_cli_tests: " << why << '\n';
    return *code;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
