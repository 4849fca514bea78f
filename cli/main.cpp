// runctl: Prefect's orchestration engine as a local command-line tool.
// main() composes the subcommands and alone maps errors to exit codes.
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/app.hpp"
#include "cli/exit_codes.hpp"
#include "util/error.hpp"

namespace {

using runctl::ErrorKind;
using runctl::cli::one_line;
namespace exit_code = runctl::cli::exit_code;

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
      return exit_code::kUsage;
    case ErrorKind::kBadData:
      return exit_code::kBadData;
    case ErrorKind::kNotFound:
      return exit_code::kNotFound;
    case ErrorKind::kHook:
      return exit_code::kHookError;
    case ErrorKind::kIo:
      return exit_code::kIoError;
    case ErrorKind::kBusy:
      return exit_code::kBusy;
    case ErrorKind::kReadOnly:
      return exit_code::kReadOnly;
    case ErrorKind::kBadPolicy:
      return exit_code::kBadPolicy;
  }
  return exit_code::kIoError;
}

std::string default_db() {
  const char* env = std::getenv("RUNCTL_DB");
  return env && *env ? env : "runctl.db";
}

}  // namespace

int main(int argc, char** argv) {
  runctl::cli::App app;
  CLI::App cli{"runctl: Prefect's orchestration rules, applied to runs in a local SQLite file."};
  cli.set_version_flag("--version", std::string("runctl ") + RUNCTL_VERSION + " (SQLite " +
                                        sqlite3_libversion() + ")");
  cli.require_subcommand(1);
  cli.footer(runctl::cli::exit_codes_help());
  app.options.db = default_db();
  cli.add_option("--db", app.options.db,
                 "SQLite database file (default: $RUNCTL_DB, else ./runctl.db)");
  cli.add_option("--now", app.options.now,
                 "the clock every rule reads, ISO 8601 (also $RUNCTL_NOW); default: system time")
      ->envname("RUNCTL_NOW");
  cli.add_option("--seed", app.options.seed,
                 "seed of the random source for retry jitter and waits (also $RUNCTL_SEED)")
      ->envname("RUNCTL_SEED");
  cli.add_option("--busy-timeout", app.options.busy_timeout_ms,
                 "milliseconds to wait for another writer before giving up (exit 75)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  runctl::cli::add_init_command(cli, app);
  runctl::cli::add_run_commands(cli, app);
  runctl::cli::add_set_state_command(cli, app);
  runctl::cli::add_inspect_commands(cli, app);
  runctl::cli::add_policy_commands(cli, app);
  runctl::cli::add_rules_command(cli, app);
  runctl::cli::add_task_queue_commands(cli, app);
  runctl::cli::add_apply_command(cli, app);
  runctl::cli::add_concurrency_commands(cli, app);
  runctl::cli::add_deployment_commands(cli, app);
  runctl::cli::add_lease_commands(cli, app);
  runctl::cli::add_events_command(cli, app);

  // A malformed --now is a usage error for every command, not only those that read the clock.
  cli.parse_complete_callback([&app] {
    if (app.options.now) app.clock();
  });

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << cli.help();
    return exit_code::kAccept;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << cli.help("", CLI::AppFormatMode::All);
    return exit_code::kAccept;
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << '\n';
    return exit_code::kAccept;
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes must not leak: every command-line mistake is EX_USAGE.
    std::cerr << "runctl: usage: " << one_line(e.what()) << " (see --help)\n";
    return exit_code::kUsage;
  } catch (const runctl::Error& e) {
    std::cerr << "runctl: " << one_line(e.what()) << '\n';
    return exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::cerr << "runctl: internal error: " << one_line(e.what()) << '\n';
    return exit_code::kIoError;
  }
  return app.exit_code;
}
