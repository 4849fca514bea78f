// Every built-in rule and transform, by Prefect's class name. Policies and policy files name them.
#pragma once
#include <string_view>
#include <vector>

#include "engine/rule.hpp"

namespace runctl {

// Which run kind an entry is written for (Prefect's FlowOrchestrationContext /
// TaskOrchestrationContext typing; generic rules serve both).
enum class RunScope { kFlow, kTask, kGeneric };
std::string_view scope_name(RunScope s);

struct BuiltinEntry {
  PolicyEntry entry;
  RunScope scope;
};

// In registration order.
const std::vector<BuiltinEntry>& builtin_entries();
const BuiltinEntry* find_builtin_entry(std::string_view name);

}  // namespace runctl
