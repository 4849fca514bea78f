// runctl: Prefect's orchestration engine as a local command-line tool.
// main() composes the subcommands and alone maps errors to exit codes.

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/commands.hpp"
#include "cli/completion.hpp"
#include "cli/exit_codes.hpp"
#include "cli/invocation.hpp"
#include "cli/man_page.hpp"
#include "cli/output.hpp"
#include "store/library_versions.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace {

using runctl::ErrorKind;
using runctl::one_line;
namespace exit_code = runctl::cli::exit_code;

// `runctl help [COMMAND...]` is `runctl [COMMAND...] --help`, as in git: the word is dropped and
// --help put at the end, so CLI11 prints the same page for both.
std::vector<char*> with_help_rewritten(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    bool valued = false;
    for (std::string_view option : runctl::cli::valued_global_options())
      valued = valued || arg == option;
    if (valued) {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    if (arg == "help") {
      static char help_flag[] = "--help";
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
      args.push_back(help_flag);
    }
    break;
  }
  return args;
}

std::string default_db() {
  const char* env = std::getenv("RUNCTL_DB");
  return env && *env ? env : "runctl.db";
}

// For a command line naming no command runctl has ("sett-state", "flow-run creat"): the message
// that says so, with the closest name; "" when the words in command position are all known.
std::string unknown_command_message(const CLI::App& cli, int argc, char** argv) {
  const CLI::App* level = &cli;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    bool valued = false;
    for (std::string_view option : runctl::cli::valued_global_options())
      valued = valued || arg == option;
    if (valued) {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) {
      if (arg.find('=') != std::string::npos && arg.starts_with("--")) continue;
      return "";  // an option first: CLI11's own message says what is wrong
    }
    const auto subcommands = level->get_subcommands([](const CLI::App*) { return true; });
    if (subcommands.empty()) return "";  // past the command: an argument
    std::vector<std::string> names;
    for (const CLI::App* sub : subcommands) names.push_back(sub->get_name());
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : subcommands)
      if (sub->get_name() == arg) next = sub;
    if (!next) {
      const auto match = runctl::closest_match(arg, names);
      return "unknown " + (path.empty() ? std::string() : path + " ") + "command \"" + arg + "\"" +
             (match ? "; did you mean " + *match + "?" : std::string());
    }
    path += (path.empty() ? "" : " ") + arg;
    level = next;
  }
  return "";
}

// The error line for an Error, reworded where the store's words mislead: SQLite reports a
// damaged runctl database (SQLITE_CORRUPT) and a file that is no database at all alike, as "not a
// runctl database".
std::string error_message(const runctl::Error& e) {
  std::string what = e.what();
  constexpr std::string_view kNotOurs = " is not a runctl database: ";
  const auto pos = what.find(kNotOurs);
  if (e.kind() != ErrorKind::kBadData || pos == std::string::npos ||
      what.find("database disk image is malformed", pos) == std::string::npos)
    return what;
  return "database is corrupt: " + what.substr(0, pos) + ": " + what.substr(pos + kNotOurs.size()) +
         " (restore it from a backup; sqlite3's .recover command may save what is left)";
}

// After the command ran: what it printed must have reached stdout. A full disk or a closed
// descriptor is exit 74, as apply reports its own output; a command that had already committed
// says so, since running it again would do it twice.
int check_output(runctl::cli::StdoutGuard& out, const runctl::cli::Invocation& invocation,
                 int code) {
  const int error = out.finish();
  if (!error) return code;
  std::cerr << "runctl: cannot write output: " << std::strerror(error)
            << (invocation.committed ? " (the change was committed)" : "") << '\n';
  return exit_code::kIoError;
}

// The words only scripts type: `__complete WORD...` (the completion scripts' question) and
// `__man` (the build's). They are answered from the whole command tree before CLI11 parses, so
// that the words being completed are never taken for runctl's own options. -1: not one of them.
int answer_hidden_command(const CLI::App& cli, int argc, char** argv) {
  if (argc < 2) return -1;
  const std::string_view word = argv[1];
  if (word == runctl::cli::kCompleteCommand) {
    for (const std::string& candidate :
         runctl::cli::complete_words(cli, std::vector<std::string>(argv + 2, argv + argc)))
      std::cout << candidate << '\n';
    return exit_code::kAccept;
  }
  if (word == runctl::cli::kManCommand) {
    std::cout << runctl::cli::man_page(cli);
    return exit_code::kAccept;
  }
  return -1;
}

}  // namespace

int main(int argc_given, char** argv_given) {
  std::vector<char*> args = with_help_rewritten(argc_given, argv_given);
  const int argc = static_cast<int>(args.size());
  char** argv = args.data();
  runctl::cli::StdoutGuard out;
  runctl::cli::Invocation invocation;
  CLI::App cli{
      "runctl: Prefect's orchestration rules, applied to runs in a SQLite file or a PostgreSQL "
      "database."};
  cli.set_version_flag("--version", std::string("runctl ") + RUNCTL_VERSION + " (SQLite " +
                                        runctl::sqlite_library_version() + ")");
  cli.require_subcommand(1);
  // Global options are also taken after the command (`set-state ID RUNNING --now T`): every
  // subcommand inherits this and hands the options it does not know to this parser.
  cli.fallthrough();
  cli.footer(runctl::cli::exit_codes_help());
  invocation.options.db = default_db();
  runctl::cli::add_global_options(cli, invocation);
  runctl::cli::register_commands(cli, invocation, runctl::cli::registrar_for(argc, argv));
  if (const int code = answer_hidden_command(cli, argc, argv); code >= 0)
    return check_output(out, invocation, code);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    // `runctl help sett-state`: no page to show for a command runctl does not have.
    if (const std::string unknown = unknown_command_message(cli, argc, argv); !unknown.empty()) {
      std::cerr << "runctl: usage: " << one_line(unknown) << " (see --help)\n";
      return exit_code::kUsage;
    }
    std::cout << cli.help();
    return check_output(out, invocation, exit_code::kAccept);
  } catch (const CLI::CallForAllHelp&) {
    std::cout << cli.help("", CLI::AppFormatMode::All);
    return check_output(out, invocation, exit_code::kAccept);
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << '\n';
    return check_output(out, invocation, exit_code::kAccept);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes must not leak: every command-line mistake is EX_USAGE.
    std::string what = unknown_command_message(cli, argc, argv);
    if (what.empty()) what = e.what();
    std::cerr << "runctl: usage: " << one_line(what) << " (see --help)\n";
    return exit_code::kUsage;
  } catch (const runctl::Error& e) {
    std::cerr << "runctl: " << one_line(error_message(e)) << '\n';
    return runctl::cli::exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::cerr << "runctl: internal error: " << one_line(e.what()) << '\n';
    return exit_code::kIoError;
  }
  return check_output(out, invocation, invocation.exit_code);
}
