// transitions: what each proposable state type would do to a run, decided and rolled back.
#include <algorithm>
#include <iomanip>
#include <iostream>

#include "cli/invocation.hpp"
#include "cli/render.hpp"
#include "cli/state_flags.hpp"
#include "service/transition.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

struct Row {
  StateType type;
  TransitionResult result;
};

std::string result_state(const TransitionResult& r) {
  return r.error ? "-" : describe(r.validated_state);
}

void print_rows_text(std::ostream& out, const std::vector<Row>& rows) {
  const Row& first = rows.front();
  out << "run " << first.result.run_id << " (" << kind_name(first.result.run_kind) << ", policy "
      << printable(first.result.policy) << "), now " << describe(first.result.initial_state)
      << '\n';
  std::size_t state_width = 5, rule_width = 10;
  for (const Row& row : rows) {
    state_width = std::max(state_width, result_state(row.result).size());
    if (row.result.decided_by) rule_width = std::max(rule_width, row.result.decided_by->size());
  }
  out << std::left << std::setw(11) << "PROPOSED" << ' ' << std::setw(6) << "STATUS" << ' '
      << std::setw(static_cast<int>(state_width)) << "STATE" << ' '
      << std::setw(static_cast<int>(rule_width)) << "DECIDED BY"
      << " REASON\n";
  for (const Row& row : rows) {
    const TransitionResult& r = row.result;
    out << std::setw(11) << type_name(row.type) << ' ' << std::setw(6)
        << (r.error ? "ERROR" : status_name(r.status)) << ' '
        << std::setw(static_cast<int>(state_width)) << result_state(r) << ' '
        << std::setw(static_cast<int>(rule_width))
        << (r.decided_by ? printable(*r.decided_by) : "-") << ' '
        << (r.error            ? "a hook raised: " + printable(*r.error)
            : r.details.reason ? printable(*r.details.reason)
                               : "-")
        << '\n';
  }
}

Json rows_to_json(const std::vector<Row>& rows) {
  const TransitionResult& first = rows.front().result;
  Json list = Json::array();
  for (const Row& row : rows) {
    const Json full = transition_to_json(row.result, false);
    list.push_back(Json{{"proposed_type", type_name(row.type)},
                        {"status", full["status"]},
                        {"details", full["details"]},
                        {"decided_by", full["decided_by"]},
                        {"validated_state", full["validated_state"]},
                        {"error", full["error"]}});
  }
  return Json{{"run_id", first.run_id},
              {"run_kind", kind_name(first.run_kind)},
              {"policy", first.policy},
              {"initial_state", state_to_json(first.initial_state)},
              {"transitions", list}};
}

}  // namespace

void add_transitions_command(CLI::App& cli, Invocation& invocation) {
  struct Flags {
    std::string run_id;
    std::optional<std::string> policy, client_version;
    std::vector<std::string> params;
    bool force = false, json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = cli.add_subcommand(
      "transitions",
      "what proposing each state type would do to a run: every type decided as `set-state "
      "--dry-run` decides it, nothing written");
  cmd->add_option("RUN", flags->run_id, "RUN: a run id, a unique prefix (4+ hex) or a run name")
      ->required();
  cmd->add_option("--policy", flags->policy,
                  "built-in policy name/alias or a policy file (default: the run kind's core "
                  "policy)");
  cmd->add_flag("--force", flags->force, "use the minimal policy, as Prefect's force=true does");
  cmd->add_option("--param", flags->params, "orchestration parameter KEY=JSON (repeatable)");
  cmd->add_option("--client-version", flags->client_version, "Prefect client version, e.g. 3.4.0");
  cmd->add_flag("--json", flags->json, "print one JSON object on stdout");

  cmd->callback([&invocation, flags] {
    TransitionRequest request;
    request.policy_ref = flags->policy;
    request.force = flags->force;
    request.parameters = parse_parameters(flags->params);
    request.client_version = flags->client_version;
    request.dry_run = true;

    const Environment env = invocation.environment();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kWriteExisting);
    request.run_id = resolve_reference(*db, Referent::kRun, flags->run_id);
    std::vector<Row> rows;
    for (int i = 0; i < kStateTypeCount; ++i) {
      const auto type = static_cast<StateType>(i);
      StateFlags state;
      state.type = std::string(type_name(type));
      request.proposal = to_proposal(state);
      rows.push_back({type, set_state(*db, request, env)});
    }
    if (flags->json)
      print_json(rows_to_json(rows));
    else
      print_rows_text(std::cout, rows);
  });
}

}  // namespace runctl::cli
