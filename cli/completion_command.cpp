// `runctl completion bash|zsh|fish`: the script each shell loads. Every script hands the words
// typed so far to `runctl __complete` (cli/completion.cpp) and offers what it prints; the line
// ":files" asks for file names as well.
#include <iostream>
#include <memory>

#include "cli/completion.hpp"
#include "cli/invocation.hpp"
#include "util/error.hpp"

namespace runctl::cli {
namespace {

constexpr std::string_view kBash = R"(# bash completion for runctl: source it, or install it as
# $(pkg-config --variable=completionsdir bash-completion)/runctl
_runctl() {
  local cur=${COMP_WORDS[COMP_CWORD]} line IFS=$'\n'
  COMPREPLY=()
  for line in $(runctl __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null); do
    if [[ $line == :files ]]; then
      COMPREPLY+=($(compgen -f -- "$cur"))
    else
      COMPREPLY+=("$line")
    fi
  done
}
complete -o filenames -F _runctl runctl
)";

constexpr std::string_view kZsh = R"(#compdef runctl
# zsh completion for runctl: put it on $fpath as _runctl, or source it after compinit
_runctl() {
  local line files=0
  local -a candidates
  for line in "${(@f)$(runctl __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}"; do
    if [[ $line == :files ]]; then
      files=1
    elif [[ -n $line ]]; then
      candidates+=("$line")
    fi
  done
  (( ${#candidates} )) && compadd -Q -- "${candidates[@]}"
  (( files )) && _files
  return 0
}
if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
  _runctl "$@"
else
  compdef _runctl runctl
fi
)";

constexpr std::string_view kFish = R"(# fish completion for runctl: install it as
# ~/.config/fish/completions/runctl.fish, or source it
function __runctl_complete
    set -l words (commandline -opc) (commandline -ct)
    set -e words[1]
    for line in (runctl __complete $words 2>/dev/null)
        if test "$line" = ":files"
            __fish_complete_path (commandline -ct)
        else
            echo $line
        end
    end
end
complete -c runctl -f -a '(__runctl_complete)'
)";

struct ShellScript {
  std::string_view shell;
  std::string_view script;
};

constexpr ShellScript kScripts[] = {{"bash", kBash}, {"zsh", kZsh}, {"fish", kFish}};

}  // namespace

std::optional<std::string_view> completion_script(std::string_view shell) {
  for (const ShellScript& entry : kScripts)
    if (entry.shell == shell) return entry.script;
  return std::nullopt;
}

std::vector<std::string_view> completion_shells() {
  std::vector<std::string_view> shells;
  for (const ShellScript& entry : kScripts) shells.push_back(entry.shell);
  return shells;
}

void add_completion_command(CLI::App& cli, Invocation& invocation) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = cli.add_subcommand(
      "completion",
      "print the shell completion script for bash, zsh or fish (commands, options, "
      "state types, policy names)");
  cmd->add_option("SHELL", *shell, "bash, zsh or fish")->required();
  cmd->callback([&invocation, shell] {
    const std::optional<std::string_view> script = completion_script(*shell);
    if (!script)
      throw Error(ErrorKind::kUsage,
                  "completion: no script for shell \"" + *shell + "\" (bash, zsh or fish)");
    std::cout << *script;
    invocation.exit_code = 0;
  });
}

}  // namespace runctl::cli
