#include "rules/registry.hpp"

#include "rules/families.hpp"

namespace runctl {

std::string_view scope_name(RunScope s) {
  switch (s) {
    case RunScope::kFlow:
      return "flow";
    case RunScope::kTask:
      return "task";
    case RunScope::kGeneric:
      return "generic";
  }
  return "?";
}

const std::vector<BuiltinEntry>& builtin_entries() {
  static const std::vector<BuiltinEntry> kEntries = [] {
    std::vector<BuiltinEntry> entries;
    for (const auto& add_family : rule_families()) add_family(entries);
    return entries;
  }();
  return kEntries;
}

const BuiltinEntry* find_builtin_entry(std::string_view name) {
  for (const BuiltinEntry& e : builtin_entries())
    if (e.entry.name() == name) return &e;
  return nullptr;
}

}  // namespace runctl
