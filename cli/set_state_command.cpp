// set-state: the main job.
#include <iostream>

#include "cli/invocation.hpp"
#include "cli/render.hpp"
#include "cli/state_flags.hpp"
#include "service/transition.hpp"
#include "util/error.hpp"
#include "util/text.hpp"
#include "util/uuid.hpp"

namespace runctl::cli {

void add_set_state_command(CLI::App& cli, Invocation& invocation) {
  struct Flags {
    std::string run_id;
    StateFlags state;
    std::optional<std::string> policy, client_version, expect_state;
    std::vector<std::string> params;
    bool force = false, dry_run = false, json = false, verbose = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = cli.add_subcommand(
      "set-state", "propose a state for a run and apply it through the rule chain");
  cmd->add_option("RUN", flags->run_id, "RUN: a run id, a unique prefix (4+ hex) or a run name")
      ->required();
  cmd->add_option("TYPE", flags->state.type, "proposed state type (case-insensitive)")->required();
  add_state_flags(cmd, flags->state, "");
  cmd->add_option("--policy", flags->policy,
                  "built-in policy name/alias or a policy file (default: the run kind's core "
                  "policy)");
  cmd->add_flag("--force", flags->force, "use the minimal policy, as Prefect's force=true does");
  cmd->add_option("--param", flags->params, "orchestration parameter KEY=JSON (repeatable)");
  cmd->add_option("--client-version", flags->client_version, "Prefect client version, e.g. 3.4.0");
  cmd->add_option("--expect-state", flags->expect_state,
                  "TYPE[,TYPE...]: refuse (exit 4, nothing written) unless the run is in one of "
                  "these states (NONE: no state)");
  cmd->add_flag("--dry-run", flags->dry_run, "run everything, then roll back");
  cmd->add_flag("--json", flags->json, "print one JSON object on stdout");
  cmd->add_flag("-v,--verbose", flags->verbose,
                "trace every step of the chain (stderr; in \"trace\" with --json)");

  cmd->callback([&invocation, flags] {
    // `set-state RUNNING ID`: the two arguments swapped, said as such.
    if (!normalize_uuid(flags->run_id) && normalize_uuid(flags->state.type) &&
        parse_state_type(flags->run_id))
      throw Error(ErrorKind::kUsage,
                  "set-state takes the run id first, then the state type: "
                  "runctl set-state " +
                      flags->state.type + " " + flags->run_id);
    TransitionRequest request;
    request.proposal = to_proposal(flags->state);
    request.policy_ref = flags->policy;
    request.force = flags->force;
    request.parameters = parse_parameters(flags->params);
    request.client_version = flags->client_version;
    if (flags->expect_state)
      request.expected_state = parse_expected_state(*flags->expect_state, "--expect-state");
    request.dry_run = flags->dry_run;
    request.trace = flags->verbose;

    const Environment env = invocation.environment();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kWriteExisting);
    request.run_id = resolve_reference(*db, Referent::kRun, flags->run_id);
    const TransitionResult result = set_state(*db, request, env);
    invocation.committed = !request.dry_run;  // the transition, or on a hook error its log row
    if (flags->json) {
      print_json(transition_to_json(result, flags->verbose));
    } else {
      if (flags->verbose) print_trace_text(std::cerr, result.trace);
      print_transition_text(std::cout, result, flags->verbose);
    }
    if (result.error)
      std::cerr << "runctl: set-state: a hook raised; the transition was rolled back (the attempt "
                   "is in the orchestration log): "
                << one_line(*result.error) << '\n';
    invocation.exit_code = exit_code_for(result);
  });
}

}  // namespace runctl::cli
