// Creating flow runs and task runs, with an optional initial state set as Prefect does it:
// through the minimal policy, forced.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "service/transition.hpp"

namespace runctl {

struct RunSpec {
  RunKind kind = RunKind::kFlow;
  std::optional<std::string> id;  // with count > 1 only the first run takes it
  std::optional<std::string> name;
  std::optional<int> retries;
  std::optional<Json> retry_delay;  // seconds; a task run may give a list
  std::optional<double> retry_jitter_factor;
  std::optional<std::string> flow_run_id;  // task runs
  std::optional<std::string> task_key;     // task runs
  std::vector<std::string> tags;
  std::optional<std::string> deployment_id;       // flow runs
  std::optional<std::string> parent_task_run_id;  // flow runs
  std::optional<std::string> infrastructure_pid;  // flow runs
  std::vector<std::string> pause_keys;            // flow runs: pauses already fired
};

struct CreatedRun {
  Run run;
  StatePtr state;  // the initial state, if one was given and accepted
};

// Creates `count` runs in one transaction. Throws Error: kBadData for an id already taken,
// kNotFound for an unknown flow run, parent task run or deployment.
std::vector<CreatedRun> create_runs(Database& db, const RunSpec& spec, int count,
                                    const std::optional<StateProposal>& initial_state,
                                    const Environment& env);

// Prefect's empirical_policy object with its defaults, and the given retry settings.
Json default_run_policy(const RunSpec& spec);

}  // namespace runctl
