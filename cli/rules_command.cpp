// rules: every built-in rule and transform, with where it applies and what it does.
#include <iomanip>
#include <iostream>

#include "cli/invocation.hpp"
#include "policy/builtin_policies.hpp"
#include "rules/registry.hpp"

namespace runctl::cli {
namespace {

std::vector<std::string> policies_holding(std::string_view name) {
  std::vector<std::string> out;
  for (const BuiltinPolicy& p : builtin_policies())
    for (std::string_view e : p.entries)
      if (e == name) out.emplace_back(p.name);
  return out;
}

}  // namespace

void add_rules_command(CLI::App& cli, Invocation&) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = cli.add_subcommand("rules", "every built-in rule and transform");
  cmd->add_flag("--json", *json, "print JSON");
  cmd->callback([json] {
    Json out = Json::array();
    for (const BuiltinEntry& b : builtin_entries()) {
      const RuleInfo& info = b.entry.info();
      const auto policies = policies_holding(info.name);
      const char* kind = b.entry.kind() == EntryKind::kRule ? "rule" : "transform";
      if (*json) {
        out.push_back(Json{{"name", info.name},
                           {"kind", kind},
                           {"run_kind", scope_name(b.scope)},
                           {"from", type_set_to_json(info.from_states)},
                           {"to", type_set_to_json(info.to_states)},
                           {"policies", policies},
                           {"description", info.description}});
        continue;
      }
      std::string held;
      for (const auto& p : policies) held += (held.empty() ? "" : ", ") + p;
      std::cout << info.name << "  (" << kind << ", " << scope_name(b.scope) << ")\n"
                << "    FROM " << info.from_states.to_string() << "  TO "
                << info.to_states.to_string() << "\n    in: " << (held.empty() ? "-" : held)
                << "\n    " << info.description << "\n";
    }
    if (*json) print_json(Json{{"rules", out}});
  });
}

}  // namespace runctl::cli
