// `runctl completion bash|zsh|fish` and the `runctl __complete` answers behind them: the scripts
// are loaded in the real shells and asked to complete real command lines.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli/process.hpp"

namespace runctl::clitest {
namespace {

ProcessResult runctl(std::vector<std::string> args) {
  args.insert(args.begin(), runctl_binary());
  return run_process(args);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// What `runctl __complete WORDS...` offers for the last word.
std::vector<std::string> offered(std::vector<std::string> words) {
  words.insert(words.begin(), "__complete");
  const ProcessResult r = runctl(words);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  return lines_of(r.out);
}

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Runs a shell script with the directory of the runctl under test first on PATH, as a user who
// installed it has.
ProcessResult shell(const std::string& shell_path, const std::string& script) {
  const std::string bin_dir = std::filesystem::path(runctl_binary()).parent_path().string();
  return run_process(
      {"/usr/bin/env", "PATH=" + bin_dir + ":/usr/bin:/bin", shell_path, "-c", script});
}

TEST_CASE("completion: commands, subcommands and options come from the command table") {
  const std::vector<std::string> top = offered({""});
  CHECK(has(top, "set-state"));
  CHECK(has(top, "flow-run"));
  CHECK(has(top, "completion"));
  CHECK_FALSE(has(top, "__complete"));
  CHECK(offered({"se"}) == std::vector<std::string>{"set-state"});
  CHECK(offered({"flow-run", ""}) == std::vector<std::string>{"create", "list"});
  const std::vector<std::string> options = offered({"set-state", "abcd", "RUNNING", "--"});
  CHECK(has(options, "--policy"));
  CHECK(has(options, "--expect-state"));
  CHECK(has(options, "--db"));  // the global options are taken after the command too
  CHECK(offered({"set-state", "abcd", "RUNNING", "--exp"}) ==
        std::vector<std::string>{"--expect-state"});
}

TEST_CASE("completion: values by kind: state types in any case, policies, files, shells") {
  CHECK(offered({"set-state", "abcd", "ru"}) == std::vector<std::string>{"RUNNING"});
  CHECK(offered({"flow-run", "list", "--state", "C"}) ==
        std::vector<std::string>{"COMPLETED", "CANCELLED", "CRASHED", "CANCELLING"});
  CHECK(offered({"set-state", "abcd", "RUNNING", "--expect-state", "RUNNING,PA"}) ==
        std::vector<std::string>{"RUNNING,PAUSED"});
  CHECK(offered({"set-state", "abcd", "RUNNING", "--policy", "CoreF"}) ==
        std::vector<std::string>{"CoreFlowPolicy", ":files"});
  CHECK(offered({"--db", ""}) == std::vector<std::string>{":files"});
  CHECK(offered({"--db=x", "se"}) == std::vector<std::string>{"set-state"});
  CHECK(offered({"completion", ""}) == std::vector<std::string>{"bash", "zsh", "fish"});
  // A word that takes no value offers nothing rather than guessing.
  CHECK(offered({"set-state", ""}).empty());
}

TEST_CASE("completion: an unknown shell is exit 64 with the ones there are") {
  const ProcessResult r = runctl({"completion", "tcsh"});
  CHECK(r.exit_code == 64);
  CHECK(r.out.empty());
  CHECK(r.err == "runctl: completion: no script for shell \"tcsh\" (bash, zsh or fish)\n");
}

TEST_CASE("completion: the bash script, loaded in bash, completes a command line") {
  const ProcessResult r = shell("/bin/bash",
                                "source <(runctl completion bash) || exit 9\n"
                                "complete -p runctl || exit 8\n"
                                "COMP_WORDS=(runctl set-state 0123abcd ru); COMP_CWORD=3\n"
                                "_runctl; printf '[%s]\\n' \"${COMPREPLY[@]}\"\n"
                                "COMP_WORDS=(runctl flow-run ''); COMP_CWORD=2\n"
                                "_runctl; printf '[%s]\\n' \"${COMPREPLY[@]}\"\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "complete -o filenames -F _runctl runctl\n[RUNNING]\n[create]\n[list]\n");
}

TEST_CASE("completion: the zsh script, loaded in zsh, completes a command line") {
  if (!std::filesystem::exists("/usr/bin/zsh")) {
    MESSAGE("zsh is not installed (scripts/install-deps.sh installs it): skipped");
    return;
  }
  // compadd and _files only exist inside zsh's completion widgets: stand-ins print what the
  // script hands them. The real compinit must also accept the script; -D: it writes no dump file
  // (one named /dev/null would, as root, replace the device with a file).
  const ProcessResult r =
      shell("/usr/bin/zsh",
            "autoload -Uz compinit && compinit -u -D\n"
            "eval \"$(runctl completion zsh)\" || exit 9\n"
            "[[ $_comps[runctl] == _runctl ]] || exit 8\n"
            "compadd() { while [[ $1 != -- ]]; do shift; done; shift; print -l -- \"[$^@]\"; }\n"
            "_files() { print -- '[files]'; }\n"
            "words=(runctl set-state 0123abcd --policy Core); CURRENT=5; _runctl\n"
            "words=(runctl --db ''); CURRENT=3; _runctl\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "[CoreFlowPolicy]\n[CoreTaskPolicy]\n[files]\n[files]\n");
}

TEST_CASE("completion: the fish script is valid fish") {
  if (!std::filesystem::exists("/usr/bin/fish")) {
    MESSAGE("fish is not installed: skipped");
    return;
  }
  const ProcessResult r =
      shell("/usr/bin/fish", "runctl completion fish | source; and complete -c runctl");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("__runctl_complete") != std::string::npos);
}

}  // namespace
}  // namespace runctl::clitest
