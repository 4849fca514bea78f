// `runctl help [COMMAND...]`, as in git: the same page as `COMMAND --help`.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/process.hpp"

namespace runctl::clitest {
namespace {

ProcessResult runctl(std::vector<std::string> args) {
  args.insert(args.begin(), runctl_binary());
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

TEST_CASE("help: every command's page ends with its examples and the global options") {
  for (const std::vector<std::string>& command : {std::vector<std::string>{"set-state"},
                                                  {"flow-run", "list"},
                                                  {"apply"},
                                                  {"lease", "reap"},
                                                  {"completion"},
                                                  {"global-limit", "update"}}) {
    std::vector<std::string> args = command;
    args.push_back("--help");
    const ProcessResult r = runctl(args);
    CAPTURE(args.front());
    REQUIRE(r.exit_code == 0);
    const std::size_t examples = r.out.find("\nExamples:\n  runctl " + command.front());
    const std::size_t globals =
        r.out.find("\nGlobal options (before or after the command):\n  --db ");
    CHECK(examples != std::string::npos);
    CHECK(globals != std::string::npos);
    CHECK(examples < globals);
    CHECK(r.out.find("--busy-timeout INT") != std::string::npos);
  }
}

TEST_CASE("help: a command taking a state type lists the types") {
  const std::string line =
      "State types (any case): SCHEDULED PENDING RUNNING COMPLETED FAILED CANCELLED CRASHED "
      "PAUSED CANCELLING\n";
  CHECK(runctl({"set-state", "--help"}).out.find(line) != std::string::npos);
  CHECK(runctl({"flow-run", "list", "--help"}).out.find(line) != std::string::npos);
  CHECK(runctl({"show", "--help"}).out.find(line) == std::string::npos);
}

}  // namespace
}  // namespace runctl::clitest
