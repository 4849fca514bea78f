// runctl: Prefect's orchestration engine as a local command-line tool.
// main() composes the subcommands and alone maps errors to exit codes.

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/app.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "store/library_versions.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace {

using runctl::ErrorKind;
using runctl::cli::one_line;
namespace exit_code = runctl::cli::exit_code;

using Registrar = void (*)(CLI::App&, runctl::cli::App&);

// Every command group, in the order `runctl --help` lists them.
constexpr Registrar kGroups[] = {
    runctl::cli::add_init_command,        runctl::cli::add_run_commands,
    runctl::cli::add_set_state_command,   runctl::cli::add_transitions_command,
    runctl::cli::add_inspect_commands,    runctl::cli::add_policy_commands,
    runctl::cli::add_rules_command,       runctl::cli::add_task_queue_commands,
    runctl::cli::add_apply_command,       runctl::cli::add_concurrency_commands,
    runctl::cli::add_deployment_commands, runctl::cli::add_lease_commands,
    runctl::cli::add_events_command,      runctl::cli::add_prune_command,
};

// Each top-level command name and the group that registers it. A name missing here only costs
// speed: that command line registers every group.
constexpr std::pair<std::string_view, Registrar> kCommandGroups[] = {
    {"init", runctl::cli::add_init_command},
    {"flow-run", runctl::cli::add_run_commands},
    {"task-run", runctl::cli::add_run_commands},
    {"set-state", runctl::cli::add_set_state_command},
    {"transitions", runctl::cli::add_transitions_command},
    {"show", runctl::cli::add_inspect_commands},
    {"history", runctl::cli::add_inspect_commands},
    {"log", runctl::cli::add_inspect_commands},
    {"policy", runctl::cli::add_policy_commands},
    {"rules", runctl::cli::add_rules_command},
    {"task-queue", runctl::cli::add_task_queue_commands},
    {"apply", runctl::cli::add_apply_command},
    {"concurrency-limit", runctl::cli::add_concurrency_commands},
    {"global-limit", runctl::cli::add_concurrency_commands},
    {"deployment", runctl::cli::add_deployment_commands},
    {"lease", runctl::cli::add_lease_commands},
    {"events", runctl::cli::add_events_command},
    {"prune", runctl::cli::add_prune_command},
};

// Building every command's options costs more than a whole set-state (CLI11 allocates and
// splits names for each of a few hundred options), so a command line that plainly names one
// command gets only that command's group. Anything else (help, --version, a mistake, an option
// this scan does not know) gets them all, so CLI11 answers exactly as it always has.
Registrar registrar_for(int argc, char** argv) {
  constexpr std::string_view kValued[] = {"--db", "--now", "--seed", "--busy-timeout"};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    bool global = false;
    for (std::string_view option : kValued) {
      if (arg == option) {
        ++i;  // its value, whatever it looks like
        global = true;
      } else if (arg.size() > option.size() && arg.starts_with(option) &&
                 arg[option.size()] == '=') {
        global = true;
      }
    }
    if (global) continue;
    if (arg.starts_with("-")) return nullptr;
    for (const auto& [name, group] : kCommandGroups)
      if (name == arg) return group;
    return nullptr;
  }
  return nullptr;
}

// `runctl help [COMMAND...]` is `runctl [COMMAND...] --help`, as in git: the word is dropped and
// --help put at the end, so CLI11 prints the same page for both.
std::vector<char*> with_help_rewritten(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  constexpr std::string_view kValued[] = {"--db", "--now", "--seed", "--busy-timeout"};
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    bool valued = false;
    for (std::string_view option : kValued) valued = valued || arg == option;
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
  constexpr std::string_view kValued[] = {"--db", "--now", "--seed", "--busy-timeout"};
  const CLI::App* level = &cli;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    bool valued = false;
    for (std::string_view option : kValued) valued = valued || arg == option;
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
int check_output(runctl::cli::StdoutGuard& out, const runctl::cli::App& app, int code) {
  const int error = out.finish();
  if (!error) return code;
  std::cerr << "runctl: cannot write output: " << std::strerror(error)
            << (app.committed ? " (the change was committed)" : "") << '\n';
  return exit_code::kIoError;
}

}  // namespace

int main(int argc_given, char** argv_given) {
  std::vector<char*> args = with_help_rewritten(argc_given, argv_given);
  const int argc = static_cast<int>(args.size());
  char** argv = args.data();
  runctl::cli::StdoutGuard out;
  runctl::cli::App app;
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
  app.options.db = default_db();
  cli.add_option("--db", app.options.db,
                 "SQLite database file, or a postgresql:// URI (default: $RUNCTL_DB, else "
                 "./runctl.db)");
  // --now and --seed are kept as text and read (with $RUNCTL_NOW / $RUNCTL_SEED) only by the
  // commands that use them: a bad value must not break `show` or `rules`.
  cli.add_option("--now", app.options.now,
                 "the clock every rule reads, ISO 8601 (also $RUNCTL_NOW); default: system time");
  cli.add_option("--seed", app.options.seed,
                 "seed of the random source for retry jitter and waits, an unsigned integer "
                 "(also $RUNCTL_SEED)");
  cli.add_option("--busy-timeout", app.options.busy_timeout_ms,
                 "milliseconds to wait for another writer before giving up (exit 75)")
      ->check(runctl::cli::kNonNegative)
      ->capture_default_str();

  if (const Registrar only = registrar_for(argc, argv)) {
    only(cli, app);
  } else {
    for (Registrar group : kGroups) group(cli, app);
  }

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    // `runctl help sett-state`: no page to show for a command runctl does not have.
    if (const std::string unknown = unknown_command_message(cli, argc, argv); !unknown.empty()) {
      std::cerr << "runctl: usage: " << one_line(unknown) << " (see --help)\n";
      return exit_code::kUsage;
    }
    std::cout << cli.help();
    return check_output(out, app, exit_code::kAccept);
  } catch (const CLI::CallForAllHelp&) {
    std::cout << cli.help("", CLI::AppFormatMode::All);
    return check_output(out, app, exit_code::kAccept);
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << '\n';
    return check_output(out, app, exit_code::kAccept);
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
  return check_output(out, app, app.exit_code);
}
