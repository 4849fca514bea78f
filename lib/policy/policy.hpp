// A configured rule chain: a built-in policy or a policy file, resolved to entries.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/rule.hpp"
#include "policy/builtin_policies.hpp"

namespace runctl {

struct Policy {
  std::string name;  // a built-in policy's name, or the policy file's path
  std::vector<PolicyEntry> rules;
  // Absent: the run kind's global transforms follow the rules. Present: exactly these.
  std::optional<std::vector<PolicyEntry>> transforms;
  // Entries of a built-in policy that runctl does not implement yet, in Prefect's order.
  std::vector<std::string> missing;
  // The run kind it is written for: a built-in policy's own; for a policy file, the kind of the
  // built-in entries it names or splices (none when they are all generic, or it has none).
  std::optional<RunKind> kind;
  // Why a policy file has its kind: the first entry that decided it, e.g. "\"@core-flow\" at
  // $.rules[0]". Empty for built-in policies.
  std::string kind_source;
};

// The implemented entries of a built-in policy, in Prefect's order.
Policy load_builtin_policy(const BuiltinPolicy& builtin);

// Reads and checks a policy file. Throws Error(kBadPolicy) naming the file, the JSON path and
// the problem; Error(kNotFound) when the file does not exist.
Policy load_policy_file(const std::string& path);
// Same, from text already read (`origin` names it in messages).
Policy parse_policy(std::string_view text, const std::string& origin);

// A built-in policy's name or alias, else a policy file's path.
Policy resolve_policy(const std::string& ref);

// Which policy a set-state runs, as Prefect chooses it (models.task_runs.set_task_run_state and
// models.flow_runs.set_flow_run_state, and the set_state API routes): a task proposal with
// `deferred` set runs BackgroundTaskPolicy even when forced; --force runs the minimal policy;
// else the given one, else the run kind's core policy.
Policy choose_policy(RunKind kind, const std::optional<std::string>& policy_ref, bool force,
                     bool deferred);

// Throws Error(kUsage) when `policy` (given as --policy) is written for the other run kind, with
// a hint at the policy to use instead.
void check_policy_kind(const Policy& policy, RunKind kind);

// The transforms that follow a policy's rules for a run of `kind`.
std::vector<PolicyEntry> transforms_for(const Policy& policy, RunKind kind);

}  // namespace runctl
