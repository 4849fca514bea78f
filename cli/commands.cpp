#include "cli/commands.hpp"

#include <algorithm>
#include <vector>

#include "engine/state_type.hpp"

namespace runctl::cli {
namespace {

// One row per command a user types. Top-level rows carry their registrar and come in --help
// order; a subcommand row follows its group and carries only examples.
constexpr CommandRow kCommands[] = {
    {"init", add_init_command, {"runctl init", "runctl --db postgresql:///orch?host=/run/pg init"}},
    {"flow-run", add_run_commands, {"runctl flow-run create --state SCHEDULED --json"}},
    {"flow-run create",
     nullptr,
     {"runctl flow-run create --state SCHEDULED --json",
      "runctl flow-run create --count 100 --retries 2 --retry-delay 10",
      "runctl flow-run create --name nightly --tags etl,db --deployment-id \"$dep\""}},
    {"flow-run list",
     nullptr,
     {"runctl flow-run list --state RUNNING --older-than 1h",
      "runctl flow-run list --tag etl --state FAILED --state CRASHED --json",
      "runctl flow-run list --name 'nightly-*' --limit 20"}},
    {"task-run", add_run_commands, {"runctl task-run create --flow-run \"$id\" --state PENDING"}},
    {"task-run create",
     nullptr,
     {"runctl task-run create --flow-run \"$id\" --state PENDING --json",
      "runctl task-run create --task-key extract --cache-key k1 --tags db"}},
    {"task-run list",
     nullptr,
     {"runctl task-run list --flow-run \"$id\"", "runctl task-run list --state RUNNING --json"}},
    {"set-state",
     add_set_state_command,
     {"runctl set-state \"$id\" RUNNING --json",
      "runctl set-state \"$id\" COMPLETED --expect-state RUNNING",
      "runctl set-state \"$id\" FAILED --dry-run --verbose"}},
    {"transitions",
     add_transitions_command,
     {"runctl transitions \"$id\"", "runctl transitions \"$id\" --policy CoreFlowPolicy --json"}},
    {"show", add_inspect_commands, {"runctl show \"$id\"", "runctl show \"$id\" --json"}},
    {"history",
     add_inspect_commands,
     {"runctl history \"$id\" --limit 20", "runctl history \"$id\" --since 1h --json",
      "runctl history \"$id\" --format mermaid"}},
    {"log",
     add_inspect_commands,
     {"runctl log \"$id\"", "runctl log \"$id\" --limit 10",
      "runctl log \"$id\" --since 2026-12-01T00:00:00Z --json"}},
    {"policy", add_policy_commands, {"runctl policy list", "runctl policy show CoreFlowPolicy"}},
    {"policy list", nullptr, {"runctl policy list", "runctl policy list --json"}},
    {"policy show",
     nullptr,
     {"runctl policy show CoreFlowPolicy", "runctl policy show my-policy.txt --json"}},
    {"policy matrix",
     nullptr,
     {"runctl policy matrix CoreFlowPolicy", "runctl policy matrix CoreTaskPolicy --format mermaid",
      "runctl policy matrix CoreFlowPolicy --run \"$id\" --json"}},
    {"policy diff",
     nullptr,
     {"runctl policy diff my-policy.txt CoreFlowPolicy",
      "runctl policy diff core-flow minimal-flow --json"}},
    {"rules", add_rules_command, {"runctl rules", "runctl rules --json"}},
    {"task-queue", add_task_queue_commands, {"runctl task-queue list"}},
    {"task-queue list", nullptr, {"runctl task-queue list", "runctl task-queue list --json"}},
    {"apply",
     add_apply_command,
     {"runctl apply transitions.jsonl", "runctl apply transitions.jsonl --commit-every 500",
      "printf '%s\\n' '{\"run_id\":\"'\"$id\"'\",\"type\":\"RUNNING\"}' | runctl apply -"}},
    {"concurrency-limit",
     add_concurrency_commands,
     {"runctl concurrency-limit create --tag db --limit 2", "runctl concurrency-limit list"}},
    {"concurrency-limit create", nullptr, {"runctl concurrency-limit create --tag db --limit 2"}},
    {"concurrency-limit list", nullptr, {"runctl concurrency-limit list --json"}},
    {"concurrency-limit show", nullptr, {"runctl concurrency-limit show db"}},
    {"concurrency-limit reset", nullptr, {"runctl concurrency-limit reset db"}},
    {"concurrency-limit release", nullptr, {"runctl concurrency-limit release db \"$task\""}},
    {"concurrency-limit delete", nullptr, {"runctl concurrency-limit delete db"}},
    {"global-limit",
     add_concurrency_commands,
     {"runctl global-limit create tag:db --limit 2", "runctl global-limit list"}},
    {"global-limit create",
     nullptr,
     {"runctl global-limit create tag:db --limit 2",
      "runctl global-limit create api --limit 5 --slot-decay 0.5"}},
    {"global-limit list", nullptr, {"runctl global-limit list --json"}},
    {"global-limit show", nullptr, {"runctl global-limit show tag:db"}},
    {"global-limit update", nullptr, {"runctl global-limit update tag:db --limit 4"}},
    {"global-limit delete", nullptr, {"runctl global-limit delete tag:db"}},
    {"deployment",
     add_deployment_commands,
     {"runctl deployment create --name etl --concurrency-limit 1", "runctl deployment list"}},
    {"deployment create",
     nullptr,
     {"runctl deployment create --name etl --concurrency-limit 1 --json"}},
    {"deployment list", nullptr, {"runctl deployment list --json"}},
    {"deployment show", nullptr, {"runctl deployment show \"$dep\""}},
    {"lease", add_lease_commands, {"runctl lease list", "runctl lease reap"}},
    {"lease list", nullptr, {"runctl lease list --json"}},
    {"lease reap", nullptr, {"runctl lease reap"}},
    {"lease release", nullptr, {"runctl lease release \"$lease\""}},
    {"events",
     add_events_command,
     {"runctl events --run \"$id\"", "runctl events --since 1h --json",
      "runctl events --limit 5 --follow"}},
    {"prune",
     add_prune_command,
     {"runctl prune --log-older-than 30d --dry-run", "runctl prune --log-older-than 30d --vacuum",
      "runctl prune --log-older-than 12h --json"}},
    {"completion",
     add_completion_command,
     {"runctl completion bash > ~/.local/share/bash-completion/completions/runctl",
      "source <(runctl completion zsh)",
      "runctl completion fish > ~/.config/fish/completions/runctl.fish"}},
};

constexpr std::string_view kValuedGlobals[] = {"--db", "--now", "--seed", "--busy-timeout"};

// The names of the options that take a state type: their help pages list the types.
constexpr std::string_view kStateTypeOptions[] = {"TYPE", "--state", "--expect-state"};

std::string state_types_line() {
  std::string line = "State types (any case):";
  for (int i = 0; i < kStateTypeCount; ++i)
    line += " " + std::string(type_name(static_cast<StateType>(i)));
  return line + "\n";
}

bool takes_state_type(const CLI::App& command) {
  for (const CLI::Option* option : command.get_options()) {
    for (std::string_view name : kStateTypeOptions)
      if (option->check_name(std::string(name))) return true;
  }
  return false;
}

// The root's options as one block, for the foot of every subcommand's page: CLI11 prints only a
// command's own options, but the global ones are accepted everywhere.
std::string global_options_block(const CLI::App& root) {
  std::string block = "Global options (before or after the command):\n";
  for (const CLI::Option* option : root.get_options()) {
    if (option->get_name() == "--help" || option->get_name() == "--version") continue;
    const std::string names = option_synopsis(*option);
    block += "  " + names;
    block += std::string(names.size() < 22 ? 24 - names.size() : 2, ' ');
    block += option->get_description() + "\n";
  }
  return block;
}

std::string footer_for(const CLI::App& command, std::string_view path, const std::string& globals) {
  // CLI11 puts one blank line before the footer: each block after the first brings its own.
  std::string footer;
  if (takes_state_type(command)) footer += state_types_line();
  const std::vector<std::string_view> examples = examples_for(path);
  if (!examples.empty()) {
    footer += footer.empty() ? "Examples:\n" : "\nExamples:\n";
    for (std::string_view example : examples) footer += "  " + std::string(example) + "\n";
  }
  return footer + (footer.empty() ? "" : "\n") + globals;
}

void add_footers(CLI::App& command, const std::string& path, const std::string& globals) {
  for (CLI::App* sub : command.get_subcommands([](const CLI::App*) { return true; })) {
    const std::string sub_path = path.empty() ? sub->get_name() : path + " " + sub->get_name();
    sub->footer(footer_for(*sub, sub_path, globals));
    add_footers(*sub, sub_path, globals);
  }
}

}  // namespace

std::span<const CommandRow> command_table() {
  return kCommands;
}

std::span<const std::string_view> valued_global_options() {
  return kValuedGlobals;
}

void add_global_options(CLI::App& cli, Invocation& invocation) {
  cli.add_option("--db", invocation.options.db,
                 "SQLite database file, or a postgresql:// URI (default: $RUNCTL_DB, else "
                 "./runctl.db)");
  // --now and --seed are kept as text and read (with $RUNCTL_NOW / $RUNCTL_SEED) only by the
  // commands that use them: a bad value must not break `show` or `rules`.
  cli.add_option("--now", invocation.options.now,
                 "the clock every rule reads, ISO 8601 (also $RUNCTL_NOW); default: system time");
  cli.add_option("--seed", invocation.options.seed,
                 "seed of the random source for retry jitter and waits, an unsigned integer "
                 "(also $RUNCTL_SEED)");
  cli.add_option("--busy-timeout", invocation.options.busy_timeout_ms,
                 "milliseconds to wait for another writer before giving up (exit 75)")
      ->check(kNonNegative)
      ->capture_default_str();
}

Registrar registrar_for(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    bool global = false;
    for (std::string_view option : kValuedGlobals) {
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
    for (const CommandRow& row : kCommands)
      if (row.registrar && row.path == arg) return row.registrar;
    return nullptr;
  }
  return nullptr;
}

void register_commands(CLI::App& cli, Invocation& invocation, Registrar only) {
  std::vector<Registrar> done;
  for (const CommandRow& row : kCommands) {
    if (!row.registrar || (only && row.registrar != only)) continue;
    if (std::find(done.begin(), done.end(), row.registrar) != done.end()) continue;
    row.registrar(cli, invocation);
    done.push_back(row.registrar);
  }
  add_footers(cli, "", global_options_block(cli));
}

const CLI::App* find_command(const CLI::App& root, std::string_view path) {
  const CLI::App* level = &root;
  while (!path.empty() && level) {
    const std::size_t space = path.find(' ');
    const std::string word(path.substr(0, space));
    path = space == std::string_view::npos ? std::string_view() : path.substr(space + 1);
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : level->get_subcommands([](const CLI::App*) { return true; }))
      if (sub->get_name() == word) next = sub;
    level = next;
  }
  return level;
}

std::string option_synopsis(const CLI::Option& option) {
  std::string synopsis;
  for (const std::string& name : option.get_snames())
    synopsis += (synopsis.empty() ? "-" : ", -") + name;
  for (const std::string& name : option.get_lnames())
    synopsis += (synopsis.empty() ? "--" : ", --") + name;
  if (option.get_type_size() != 0) {
    const std::string type = option.get_type_name();
    synopsis += " " + type.substr(0, type.find(':'));
  }
  return synopsis;
}

std::vector<std::string_view> examples_for(std::string_view path) {
  std::vector<std::string_view> examples;
  for (const CommandRow& row : kCommands) {
    if (row.path != path) continue;
    for (std::string_view example : row.examples)
      if (!example.empty()) examples.push_back(example);
  }
  return examples;
}

}  // namespace runctl::cli
