// Graphviz in the picture tests: the DOT that `--format dot` prints must be what Graphviz's own
// parser accepts, not only look like it. scripts/install-deps.sh installs graphviz with the test
// packages, so a missing `dot` is a failed check here, never a skipped one.
#pragma once
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "cli/process.hpp"

namespace runctl::clitest {

// `dot` as PATH finds it, or "" (run_process does not search PATH).
inline std::string graphviz_dot() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / "dot";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

// Graphviz parses and lays out `text` without an error or a warning.
inline void check_accepted_by_graphviz(const std::string& text) {
  const std::string dot = graphviz_dot();
  REQUIRE_MESSAGE(!dot.empty(), "no dot on PATH: install Graphviz (scripts/install-deps.sh)");
  const ProcessResult r = run_process({dot, "-Tcanon"}, text);
  INFO("DOT given to Graphviz:\n" << text);
  CHECK(r.exit_code == 0);
  CHECK(r.err == "");
  CHECK(r.out.rfind("digraph", 0) == 0);
}

}  // namespace runctl::clitest
