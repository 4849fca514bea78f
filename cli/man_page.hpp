// runctl(1), written in roff from the tree register_commands builds and the command table's
// examples, so the manual says exactly what --help says. The build runs `runctl __man` to make
// runctl.1 (CMakeLists.txt); main() answers that hidden word before CLI11 parses anything.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

namespace runctl::cli {

inline constexpr std::string_view kManCommand = "__man";

std::string man_page(const CLI::App& root);

}  // namespace runctl::cli
