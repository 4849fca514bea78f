// Shell completion. The scripts `runctl completion bash|zsh|fish` prints are thin: each asks the
// binary itself (`runctl __complete WORD...`) for the candidates, so commands, options, state
// types and policy names come from the one command table and are never written into a script.
#pragma once
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runctl::cli {

// The hidden word that asks for candidates; main() answers it before CLI11 parses anything.
inline constexpr std::string_view kCompleteCommand = "__complete";

// The line that, among the candidates, tells the script to complete file names as well.
inline constexpr std::string_view kFilesDirective = ":files";

// The candidates for the last of `words` (the words after `runctl`, the last one being the word
// under the cursor, possibly empty) in the tree `root` that register_commands built: the ones
// starting with that word, in the order the tree gives them, plus kFilesDirective where a file
// name fits.
std::vector<std::string> complete_words(const CLI::App& root,
                                        const std::vector<std::string>& words);

// The script for `shell` ("bash", "zsh", "fish"), or nullopt for a shell runctl has none for.
std::optional<std::string_view> completion_script(std::string_view shell);

// The shells completion_script knows, in the order the help lists them.
std::vector<std::string_view> completion_shells();

}  // namespace runctl::cli
