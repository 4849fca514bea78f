// Prefect's policies as ordered lists of entry names: the priority() of each policy class in
// prefect.server.orchestration.core_policy and global_policy.
#pragma once
#include <optional>
#include <string_view>
#include <vector>

#include "engine/run.hpp"

namespace runctl {

struct BuiltinPolicy {
  std::string_view name;   // Prefect's class name
  std::string_view alias;  // short name for the command line
  std::optional<RunKind> kind;
  bool global;  // a GlobalFlowPolicy / GlobalTaskPolicy: transforms that follow every policy
  std::string_view description;
  std::vector<std::string_view> entries;  // Prefect's entries, in Prefect's order
};

const std::vector<BuiltinPolicy>& builtin_policies();
// By name or alias, case-sensitive for names, as typed for aliases.
const BuiltinPolicy* find_builtin_policy(std::string_view name_or_alias);

const BuiltinPolicy& core_policy(RunKind kind);
const BuiltinPolicy& minimal_policy(RunKind kind);
const BuiltinPolicy& global_policy(RunKind kind);
const BuiltinPolicy& background_task_policy();

}  // namespace runctl
