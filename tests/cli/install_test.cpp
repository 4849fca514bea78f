// `make install` / `cmake --install` (README.md, "Install"): a stripped runctl in
// $DESTDIR$PREFIX/bin that runs from there, its man page and its shell completions.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/process.hpp"

namespace runctl::clitest {
namespace {

TEST_CASE("install: DESTDIR and a prefix get a stripped runctl in bin/ that runs") {
  const std::string dir = make_temp_dir();
  const std::string stage = dir + "/stage";
  const ProcessResult install = run_process({"/usr/bin/env", "DESTDIR=" + stage, "cmake",
                                             "--install", RUNCTL_BUILD_DIR, "--prefix", "/usr"});
  INFO(install.out << install.err);
  REQUIRE(install.exit_code == 0);
  const std::string installed = stage + "/usr/bin/runctl";
  REQUIRE(std::filesystem::is_regular_file(installed));
  // Beside the binary: the man page and the three completions, where man, bash-completion,
  // zsh and fish look under the prefix; nothing else.
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(stage))
    if (entry.is_regular_file())
      files.push_back(std::filesystem::relative(entry.path(), stage).string());
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{
                     "usr/bin/runctl", "usr/share/bash-completion/completions/runctl",
                     "usr/share/fish/vendor_completions.d/runctl.fish",
                     "usr/share/man/man1/runctl.1", "usr/share/zsh/site-functions/_runctl"});
  const ProcessResult bash_script = run_process({installed, "completion", "bash"});
  std::ifstream installed_bash(stage + "/usr/share/bash-completion/completions/runctl");
  std::ostringstream installed_text;
  installed_text << installed_bash.rdbuf();
  CHECK(installed_text.str() == bash_script.out);
  // Stripped: no symbol table left (the build tree's copy keeps it).
  const ProcessResult symbols = run_process({"/usr/bin/env", "LC_ALL=C", "nm", installed});
  CHECK(symbols.err.find("no symbols") != std::string::npos);
  const ProcessResult version = run_process({installed, "--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.starts_with("runctl "));
  remove_tree(dir);
}

}  // namespace
}  // namespace runctl::clitest
