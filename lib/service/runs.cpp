#include "service/runs.hpp"

#include "util/error.hpp"

namespace runctl {

Json default_run_policy(const RunSpec& spec) {
  Json p = Json{{"max_retries", 0},
                {"retry_delay_seconds", 0},
                {"retries", spec.retries ? Json(*spec.retries) : Json(nullptr)},
                {"retry_delay", spec.retry_delay ? *spec.retry_delay : Json(nullptr)}};
  if (spec.kind == RunKind::kFlow) {
    p["pause_keys"] = spec.pause_keys;
    p["resuming"] = false;
    p["retry_type"] = nullptr;
  } else {
    p["retry_jitter_factor"] =
        spec.retry_jitter_factor ? Json(*spec.retry_jitter_factor) : Json(nullptr);
  }
  return p;
}

std::vector<CreatedRun> create_runs(Database& db, const RunSpec& spec, int count,
                                    const std::optional<StateProposal>& initial_state,
                                    const Environment& env) {
  WriteTransaction tx(db);
  // Every id the runs will point at must exist, as --flow-run's always had to.
  if (spec.flow_run_id && !db.runs().load_run(RunKind::kFlow, *spec.flow_run_id))
    throw Error(ErrorKind::kNotFound, "flow run " + *spec.flow_run_id + " not found");
  if (spec.parent_task_run_id && !db.runs().load_run(RunKind::kTask, *spec.parent_task_run_id))
    throw Error(ErrorKind::kNotFound,
                "--parent-task-run: task run " + *spec.parent_task_run_id + " not found");
  if (spec.deployment_id && !db.concurrency().read_deployment(*spec.deployment_id))
    throw Error(ErrorKind::kNotFound, "--deployment-id: deployment " + *spec.deployment_id +
                                          " not found (runctl deployment create makes one)");

  std::vector<CreatedRun> created;
  created.reserve(count);
  // Prefect creates the initial state with force=true, which still honours `deferred`.
  const Policy creation_policy =
      choose_policy(spec.kind, std::nullopt, true,
                    initial_state && initial_state->details.deferred.value_or(false));
  for (int i = 0; i < count; ++i) {
    Run run;
    run.kind = spec.kind;
    run.id = (i == 0 && spec.id) ? *spec.id : env.uuids.next();
    if (db.runs().find_run_kind(run.id))
      throw Error(ErrorKind::kBadData, "a run with id " + run.id + " already exists");
    run.name =
        spec.name ? *spec.name : std::string(kind_name(spec.kind)) + "-run-" + run.id.substr(0, 8);
    run.created = env.clock.now();
    run.empirical_policy = default_run_policy(spec);
    run.tags = spec.tags;
    run.flow_run_id = spec.flow_run_id;
    run.task_key = spec.task_key;
    run.deployment_id = spec.deployment_id;
    run.parent_task_run_id = spec.parent_task_run_id;
    run.infrastructure_pid = spec.infrastructure_pid;
    db.runs().insert_run(run);

    CreatedRun out{run, nullptr};
    if (initial_state) {
      TransitionRequest request;
      request.run_id = run.id;
      request.proposal = *initial_state;
      request.force = true;
      TransitionResult r = apply_transition(db, run, creation_policy, request, env);
      if (r.error)
        throw Error(ErrorKind::kHook, "initial state of run " + run.id + ": " + *r.error);
      out.run = run;
      out.state = r.validated_state;
    }
    created.push_back(std::move(out));
  }
  tx.commit();
  return created;
}

}  // namespace runctl
