// `runctl help [COMMAND...]`, as in git: the same page as `COMMAND --help`.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/process.hpp"

namespace runctl::clitest {
namespace {

ProcessResult runctl(std::vector<std::string> args) {
  args.insert(args.begin(), RUNCTL_BIN);
  return run_process(args);
}

TEST_CASE("help: `help COMMAND` prints what `COMMAND --help` prints") {
  for (const std::vector<std::string>& command : {std::vector<std::string>{},
                                                  {"set-state"},
                                                  {"flow-run"},
                                                  {"flow-run", "create"},
                                                  {"global-limit", "update"}}) {
    CAPTURE(command.size());
    std::vector<std::string> help{"help"};
    help.insert(help.end(), command.begin(), command.end());
    std::vector<std::string> flag = command;
    flag.push_back("--help");
    const ProcessResult by_word = runctl(help);
    const ProcessResult by_flag = runctl(flag);
    CHECK(by_word.exit_code == 0);
    CHECK(by_word.err.empty());
    CHECK(by_word.out == by_flag.out);
    CHECK(by_word.out.find("Usage:") != std::string::npos);
  }
  // Global options may come first.
  CHECK(runctl({"--db", "/nonexistent/x.db", "help", "show"}).out ==
        runctl({"show", "--help"}).out);
  CHECK(runctl({"help", "set-state"}).out.find("--expect-state") != std::string::npos);
}

TEST_CASE("help: an unknown command is one line, exit 64, with the closest name") {
  const ProcessResult r = runctl({"help", "sett-state"});
  CHECK(r.exit_code == 64);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "runctl: usage: unknown command \"sett-state\"; did you mean set-state? (see --help)\n");
  const ProcessResult sub = runctl({"help", "flow-run", "creat"});
  CHECK(sub.exit_code == 64);
  CHECK(sub.err ==
        "runctl: usage: unknown flow-run command \"creat\"; did you mean create? (see "
        "--help)\n");
}

}  // namespace
}  // namespace runctl::clitest
