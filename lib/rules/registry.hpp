// Every built-in rule and transform, by Prefect's class name. Policies and policy files name them.
#pragma once
#include <string_view>
#include <vector>

#include "engine/rule.hpp"

namespace runctl {

std::string_view scope_name(RunScope s);

struct BuiltinEntry {
  PolicyEntry entry;
  RunScope scope;  // the entry's own RuleInfo::run_kind
};

// In registration order.
const std::vector<BuiltinEntry>& builtin_entries();
const BuiltinEntry* find_builtin_entry(std::string_view name);

}  // namespace runctl
