// runctl.1: written at build time from the command table (cli/man_page.cpp), so it names every
// command --help names, with the same examples, and man(1) reads it without a warning.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/process.hpp"

namespace runctl::clitest {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("man: the build's runctl.1 is what the binary writes, and covers every command") {
  const std::string page = read_file(std::string(RUNCTL_BUILD_DIR) + "/share/runctl.1");
  const ProcessResult written = run_process({runctl_binary(), "__man"});
  REQUIRE(written.exit_code == 0);
  CHECK(page == written.out);
  CHECK(page.starts_with(".TH RUNCTL 1 "));
  // Every top-level command --help lists has its section, subcommands too.
  for (const char* section : {".SS set\\-state\n", ".SS flow\\-run list\n",
                              ".SS global\\-limit update\n", ".SS completion\n", ".SS apply\n"})
    CHECK_MESSAGE(page.find(section) != std::string::npos, section);
  // The command table's examples, and the options with their help text.
  CHECK(page.find("runctl set\\-state \"$id\" COMPLETED \\-\\-expect\\-state RUNNING\n") !=
        std::string::npos);
  CHECK(page.find(".B \\-\\-expect\\-state TEXT\n") != std::string::npos);
  CHECK(page.find(".SH EXIT STATUS\n") != std::string::npos);
  CHECK(page.find("__complete") == std::string::npos);
}

TEST_CASE("man: groff renders the page without a warning") {
  if (!std::filesystem::exists("/usr/bin/groff")) {
    MESSAGE("groff is not installed: skipped");
    return;
  }
  const ProcessResult r = run_process({"/usr/bin/groff", "-man", "-Tutf8", "-ww", "-z",
                                       std::string(RUNCTL_BUILD_DIR) + "/share/runctl.1"});
  CHECK(r.exit_code == 0);
  CHECK(r.err == "");
}

}  // namespace
}  // namespace runctl::clitest
