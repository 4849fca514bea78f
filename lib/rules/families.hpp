// The rule families (one source file each, named like Prefect's groups) that fill the registry.
#pragma once
#include <memory>
#include <vector>

#include "rules/registry.hpp"

namespace runctl {

using RuleFamily = void (*)(std::vector<BuiltinEntry>&);

// Each family appends its entries; the registry calls them in this order.
const std::vector<RuleFamily>& rule_families();

void add_terminal_rules(std::vector<BuiltinEntry>& out);              // terminal.cpp
void add_cancelling_rules(std::vector<BuiltinEntry>& out);            // cancelling.cpp
void add_pending_rules(std::vector<BuiltinEntry>& out);               // pending.cpp
void add_scheduling_rules(std::vector<BuiltinEntry>& out);            // scheduling.cpp
void add_pausing_rules(std::vector<BuiltinEntry>& out);               // pausing.cpp
void add_retry_rules(std::vector<BuiltinEntry>& out);                 // retries.cpp
void add_caching_rules(std::vector<BuiltinEntry>& out);               // caching.cpp
void add_task_run_rules(std::vector<BuiltinEntry>& out);              // task_runs.cpp
void add_global_transforms(std::vector<BuiltinEntry>& out);           // global.cpp
void add_concurrency_rules(std::vector<BuiltinEntry>& out);           // concurrency.cpp
void add_instrumentation_transforms(std::vector<BuiltinEntry>& out);  // instrumentation.cpp

template <typename R>
BuiltinEntry builtin_rule(RunScope scope) {
  return BuiltinEntry{PolicyEntry{std::make_shared<R>(), nullptr}, scope};
}

template <typename T>
BuiltinEntry builtin_transform(RunScope scope) {
  return BuiltinEntry{PolicyEntry{nullptr, std::make_shared<T>()}, scope};
}

}  // namespace runctl
