// What every subcommand shares: the global options and how a command reports its exit code.
#pragma once
#include <CLI/CLI.hpp>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "engine/run.hpp"
#include "engine/state_type.hpp"
#include "service/environment.hpp"
#include "store/database.hpp"
#include "store/reference.hpp"
#include "util/random.hpp"
#include "util/time.hpp"
#include "util/uuid.hpp"

namespace runctl::cli {

struct GlobalOptions {
  std::string db;
  // As given on the command line; $RUNCTL_NOW and $RUNCTL_SEED stand in when absent. Both are
  // parsed only by the commands that read them (Invocation::clock(), Invocation::random()).
  std::optional<std::string> now;
  std::optional<std::string> seed;
  int busy_timeout_ms = 5000;
};

// One run of the program as every command sees it: the global options, the clock, ids and
// randomness it was given, and the exit code it leaves for main(). (CLI::App is CLI11's parser.)
struct Invocation {
  GlobalOptions options;
  int exit_code = 0;
  // Set by a command once its change is committed: if its output then cannot be written, the
  // error says the change was made all the same.
  bool committed = false;

  // The clock every rule reads and every write stamps: --now / RUNCTL_NOW when given, else the
  // system clock. Throws Error(kUsage) naming the source when the value is not ISO 8601.
  const Clock& clock();
  UuidGenerator& uuids() { return uuids_; }
  // Retry jitter and concurrency waits draw from it: --seed / RUNCTL_SEED makes them repeatable.
  // Throws Error(kUsage) naming the source when the value is not an unsigned 64-bit integer.
  RandomSource& random();
  // Everything an orchestration takes from outside; Prefect's settings are read from the
  // environment here, once, and only by the commands that orchestrate.
  Environment environment();

  // The database --db / RUNCTL_DB names (a SQLite path or a PostgreSQL URL).
  std::unique_ptr<Database> open_db(OpenMode mode) const;

  // Runs `change` in one write transaction of `db` and commits it, then sets `committed`: what
  // `change` returns is printed after that, and a failure to print it says the change was made.
  // Whatever `change` throws rolls the whole transaction back.
  template <typename Change>
  auto commit(Database& db, Change&& change) {
    Database::WriteTransaction tx(db);
    if constexpr (std::is_void_v<decltype(change())>) {
      change();
      tx.commit();
      committed = true;
    } else {
      auto result = change();
      tx.commit();
      committed = true;
      return result;
    }
  }

 private:
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<RandomSource> random_;
  std::optional<Settings> settings_;
  RandomUuidGenerator uuids_;
};

// Each command group registers its subcommands; callbacks set invocation.exit_code or throw Error.
void add_init_command(CLI::App& cli, Invocation& invocation);
void add_run_commands(CLI::App& cli, Invocation& invocation);
void add_set_state_command(CLI::App& cli, Invocation& invocation);
void add_transitions_command(CLI::App& cli, Invocation& invocation);  // cli/transitions_command.cpp
void add_inspect_commands(CLI::App& cli, Invocation& invocation);
void add_policy_commands(CLI::App& cli, Invocation& invocation);
void add_rules_command(CLI::App& cli, Invocation& invocation);
void add_task_queue_commands(CLI::App& cli, Invocation& invocation);
void add_apply_command(CLI::App& cli, Invocation& invocation);  // cli/apply_command.cpp
void add_concurrency_commands(CLI::App& cli,
                              Invocation& invocation);  // concurrency-limit, global-limit
void add_deployment_commands(CLI::App& cli, Invocation& invocation);  // cli/deployment_commands.cpp
void add_lease_commands(CLI::App& cli, Invocation& invocation);       // cli/lease_commands.cpp
void add_events_command(CLI::App& cli, Invocation& invocation);       // cli/events_command.cpp
void add_completion_command(CLI::App& cli, Invocation& invocation);   // cli/completion_command.cpp
void add_prune_command(CLI::App& cli, Invocation& invocation);        // cli/prune_command.cpp
// `list` under the flow-run or task-run group (cli/run_list_command.cpp).
void add_run_list_command(CLI::App* group, Invocation& invocation, RunKind kind);

// Reads an argument that must be a full id (any case) and returns it canonical, or throws
// Error(kBadData): `noun` names it in the message ("not a deployment id (a UUID)"). For ids a
// command mints (create --id) and machine input (apply's run_id); an argument that names an
// existing run, deployment or lease takes a prefix or a name too: resolve_reference
// (store/reference.hpp).
std::string parse_id(const std::string& text, const std::string& noun);

// "a, b,,a" -> {"a", "b"}: a comma-separated list (--tags, --pause-keys) with each item trimmed of
// spaces and tabs, empty items dropped and repeats kept once, in first-seen order. A tag " db"
// would silently miss the "db" concurrency limit.
std::vector<std::string> split_list(const std::string& text);

// A FROM/TO set as a JSON array of type names ("NONE" for no state).
nlohmann::ordered_json type_set_to_json(const StateTypeSet& set);

// Prints JSON on stdout, one object, pretty when stdout is a terminal.
void print_json(const nlohmann::ordered_json& value);

// For numeric options that must be >= 0. CLI::NonNegativeNumber's message quotes the upper
// bound (DBL_MAX) in full, 300 digits on the error line; this one says it plainly. NaN and
// infinities are refused too: NaN compares false with everything, so "nan >= 0" would pass and
// reach the database as NULL.
inline const CLI::Validator kNonNegative(
    [](std::string& text) -> std::string {
      double value = 0;
      if (!CLI::detail::lexical_cast(text, value)) return "expected a number, got " + text;
      if (!std::isfinite(value)) return "expected a finite number >= 0, got " + text;
      return value < 0 ? "expected a number >= 0, got " + text : std::string();
    },
    "NONNEGATIVE");

}  // namespace runctl::cli
