// The one table of runctl's commands. Registration, every help page's examples and global
// options, `runctl completion` and the man page all come from it and from the CLI11 tree it
// builds, so a command is described once: its options and their help in its registrar, its
// examples here.
//
// To add a command: write its registrar (cli/<name>_command.cpp, declared in cli/invocation.hpp)
// and add one row below with 1-3 examples. A subcommand of an existing group gets a row of its own
// only for its examples (registrar nullptr: its group registers it).
#pragma once
#include <CLI/CLI.hpp>
#include <array>
#include <span>
#include <string>
#include <string_view>

#include "cli/invocation.hpp"

namespace runctl::cli {

using Registrar = void (*)(CLI::App&, Invocation&);

struct CommandRow {
  std::string_view path;  // the words after `runctl`: "set-state", "flow-run list"
  // Top-level rows: the function that registers the command (one function may register several
  // commands, e.g. flow-run and task-run). nullptr for a subcommand, registered by its group.
  Registrar registrar;
  std::array<std::string_view, 3> examples;  // command lines shown on its help page; "" unused
};

// Every command, top-level ones in the order `runctl --help` lists them.
std::span<const CommandRow> command_table();

// The global options that take a value (--db PATH): a scan of the command line must skip their
// value, whatever it looks like.
std::span<const std::string_view> valued_global_options();

// --db, --now, --seed, --busy-timeout on the root parser; subcommands hand them through
// (CLI11 fallthrough), so they may come before or after the command.
void add_global_options(CLI::App& cli, Invocation& invocation);

// The group registering the one command this command line names, or nullptr when it names none
// plainly (help, --version, a mistake, an option before the command): then every group must be
// registered so that CLI11 answers exactly as it always has.
Registrar registrar_for(int argc, char** argv);

// Registers `only` (a registrar from the table), or every group when nullptr; then gives each
// registered command's help page its examples, the state types where a TYPE is taken, and the
// global options.
void register_commands(CLI::App& cli, Invocation& invocation, Registrar only);

// The subcommand at `path` ("flow-run list") in a tree built by register_commands, or nullptr.
const CLI::App* find_command(const CLI::App& root, std::string_view path);

// An option as help pages name it: "-v, --verbose", "--db TEXT" (the type without CLI11's
// validator names).
std::string option_synopsis(const CLI::Option& option);

// The examples of the command at `path`, without the empty slots.
std::vector<std::string_view> examples_for(std::string_view path);

}  // namespace runctl::cli
