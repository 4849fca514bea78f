// `make install` / `cmake --install` (README.md, "Install"): a stripped runctl in
// $DESTDIR$PREFIX/bin that runs from there.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

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
  // Nothing outside bin/ (no man page or completion is installed yet).
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(stage))
    files += entry.is_regular_file();
  CHECK(files == 1);
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
