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

// A registry row, filed under the run kind its class declares.
template <typename R>
BuiltinEntry builtin_rule() {
  auto rule = std::make_shared<R>();
  const RunScope scope = rule->info().run_kind;
  return BuiltinEntry{PolicyEntry{std::move(rule), nullptr}, scope};
}

template <typename T>
BuiltinEntry builtin_transform() {
  auto transform = std::make_shared<T>();
  const RunScope scope = transform->info().run_kind;
  return BuiltinEntry{PolicyEntry{nullptr, std::move(transform)}, scope};
}

}  // namespace runctl
