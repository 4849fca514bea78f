// init, flow-run create, task-run create.
#include <cmath>
#include <iostream>

#include "cli/invocation.hpp"
#include "cli/render.hpp"
#include "cli/state_flags.hpp"
#include "service/runs.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

struct CreateFlags {
  StateFlags state;
  bool has_state = false;
  std::optional<std::string> name, id, flow_run, task_key, retry_delay, deployment_id,
      parent_task_run, infrastructure_pid, tags, pause_keys;
  std::optional<int> retries;
  std::optional<double> retry_jitter_factor;
  int count = 1;
  bool json = false;
};

std::optional<std::string> optional_uuid(const std::optional<std::string>& text,
                                         const std::string& noun) {
  if (!text) return std::nullopt;
  return parse_id(*text, noun);
}

// An option naming an existing row (--flow-run, --deployment-id, --parent-task-run): an id, a
// unique prefix or a name, looked up once the database is open.
std::optional<std::string> optional_reference(Database& db, const std::optional<std::string>& text,
                                              Referent what) {
  if (!text) return std::nullopt;
  return resolve_reference(db, what, *text);
}

// "5" or, for task runs, "5,10,20": Prefect's retry_delay (a number or a list).
Json parse_retry_delay(const std::string& text, RunKind kind) {
  std::vector<double> values;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, comma - start);
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || !std::isfinite(v) || v < 0)
      throw Error(ErrorKind::kUsage, "--retry-delay: expected seconds, got \"" + text + "\"");
    values.push_back(v);
    start = comma + 1;
  }
  if (values.size() > 1 && kind == RunKind::kFlow)
    throw Error(ErrorKind::kUsage, "--retry-delay: flow runs take one number of seconds");
  if (values.size() > 50)
    throw Error(ErrorKind::kUsage, "--retry-delay: at most 50 delays (Prefect's limit)");
  auto as_json = [](double v) {
    return v == static_cast<std::int64_t>(v) ? Json(static_cast<std::int64_t>(v)) : Json(v);
  };
  if (values.size() == 1) return as_json(values[0]);
  Json list = Json::array();
  for (double v : values) list.push_back(as_json(v));
  return list;
}

void add_create_command(CLI::App& cli, Invocation& invocation, RunKind kind) {
  const std::string group = kind == RunKind::kFlow ? "flow-run" : "task-run";
  CLI::App* parent =
      cli.add_subcommand(group, kind == RunKind::kFlow ? "manage flow runs" : "manage task runs");
  parent->require_subcommand(1);
  CLI::App* create =
      parent->add_subcommand("create", "create " + group +
                                           "s, optionally with a "
                                           "state (set through the minimal policy, as "
                                           "Prefect does on creation)");
  add_run_list_command(parent, invocation, kind);
  auto flags = std::make_shared<CreateFlags>();
  create->add_option("--name", flags->name, "run name (default: derived from the id)");
  create->add_option("--state", flags->state.type, "initial state type, e.g. PENDING");
  add_state_flags(create, flags->state, "state-");
  create->add_option("--retries", flags->retries, "automatic retries")->check(kNonNegative);
  create->add_option("--retry-delay", flags->retry_delay,
                     kind == RunKind::kFlow ? "seconds between retries"
                                            : "seconds between retries, or S1,S2,... per attempt");
  create->add_option("--tags", flags->tags, "comma-separated tags");
  create->add_option("--id", flags->id, "the run's id (a UUID); default: a new UUID v4");
  create->add_option("--count", flags->count, "how many runs to create")
      ->check(CLI::Range(1, 1000000));
  create->add_flag("--json", flags->json, "print JSON");
  if (kind == RunKind::kFlow) {
    create->add_option(
        "--deployment-id", flags->deployment_id,
        "DEPLOYMENT: the run's deployment (an id, a unique prefix (4+ hex) or a name)");
    create->add_option(
        "--parent-task-run", flags->parent_task_run,
        "RUN: the parent task run of a subflow (its id, a unique prefix (4+ hex) or its name)");
    create->add_option("--infrastructure-pid", flags->infrastructure_pid,
                       "infrastructure process id");
    create->add_option("--pause-keys", flags->pause_keys,
                       "comma-separated pause keys that have already fired");
  } else {
    create->add_option(
        "--flow-run", flags->flow_run,
        "RUN: the flow run this task belongs to (its id, a unique prefix (4+ hex) or its name)");
    create->add_option("--task-key", flags->task_key, "task key");
    create->add_option("--retry-jitter-factor", flags->retry_jitter_factor, "retry jitter factor")
        ->check(kNonNegative);
  }

  create->callback([&invocation, flags, kind] {
    RunSpec spec;
    spec.kind = kind;
    spec.id = optional_uuid(flags->id, "run");
    spec.name = flags->name;
    spec.retries = flags->retries;
    if (flags->retry_delay) spec.retry_delay = parse_retry_delay(*flags->retry_delay, kind);
    spec.retry_jitter_factor = flags->retry_jitter_factor;
    spec.task_key = flags->task_key;
    if (flags->tags) spec.tags = split_list(*flags->tags);
    spec.infrastructure_pid = flags->infrastructure_pid;
    if (flags->pause_keys) spec.pause_keys = split_list(*flags->pause_keys);
    // Free text from argv goes to TEXT columns: no invalid UTF-8, no megabyte names.
    check_text_flag("--name", spec.name, kMaxNameBytes);
    check_text_flag("--task-key", spec.task_key, kMaxNameBytes);
    check_text_flag("--infrastructure-pid", spec.infrastructure_pid, kMaxNameBytes);
    for (const std::string& tag : spec.tags) check_text_flag("--tags", tag, kMaxNameBytes);
    for (const std::string& key : spec.pause_keys)
      check_text_flag("--pause-keys", key, kMaxNameBytes);

    std::optional<StateProposal> state;
    if (!flags->state.type.empty()) {
      state = to_proposal(flags->state);
    } else if (has_state_fields(flags->state)) {
      throw Error(ErrorKind::kUsage,
                  "the initial state's flags (--state-name, --details, ...) need --state");
    }

    const Environment env = invocation.environment();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kCreate);
    spec.flow_run_id = optional_reference(*db, flags->flow_run, Referent::kFlowRun);
    spec.deployment_id = optional_reference(*db, flags->deployment_id, Referent::kDeployment);
    spec.parent_task_run_id = optional_reference(*db, flags->parent_task_run, Referent::kTaskRun);
    const auto runs = create_runs(*db, spec, flags->count, state, env);
    invocation.committed = true;
    if (flags->json) {
      // docs/cli.md, "JSON output": a run is run_id / run_kind, and ids is there for one run
      // too; id and kind stay, as scripts read them.
      Json ids = Json::array();
      for (const auto& r : runs) ids.push_back(r.run.id);
      if (flags->count == 1) {
        print_json(Json{{"id", runs[0].run.id},
                        {"kind", kind_name(kind)},
                        {"state", state_to_json(runs[0].state)},
                        {"run_id", runs[0].run.id},
                        {"run_kind", kind_name(kind)},
                        {"ids", ids}});
      } else {
        print_json(Json{{"ids", ids}, {"kind", kind_name(kind)}, {"run_kind", kind_name(kind)}});
      }
    } else {
      for (const auto& r : runs) std::cout << r.run.id << '\n';
    }
  });
}

}  // namespace

void add_init_command(CLI::App& cli, Invocation& invocation) {
  CLI::App* init = cli.add_subcommand("init", "create or migrate the database");
  auto json = std::make_shared<bool>(false);
  init->add_flag("--json", *json, "print JSON");
  init->callback([&invocation, json] {
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kCreate);
    invocation.committed = true;  // created or migrated
    if (*json)
      print_json(Json{{"path", db->name()}, {"schema_version", db->schema_version()}});
    else
      std::cout << printable(db->name()) << ": schema version " << db->schema_version() << '\n';
  });
}

void add_run_commands(CLI::App& cli, Invocation& invocation) {
  add_create_command(cli, invocation, RunKind::kFlow);
  add_create_command(cli, invocation, RunKind::kTask);
}

}  // namespace runctl::cli
