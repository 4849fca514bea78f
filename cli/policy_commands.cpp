// policy list, policy show: what a policy compiles to.
#include <algorithm>
#include <iomanip>
#include <iostream>

#include "cli/invocation.hpp"
#include "cli/policy_matrix_command.hpp"
#include "policy/policy.hpp"
#include "rules/registry.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

Json entry_to_json(const PolicyEntry& e) {
  const RuleInfo& info = e.info();
  return Json{{"name", info.name},
              {"kind", e.kind() == EntryKind::kRule ? "rule" : "transform"},
              {"from", type_set_to_json(info.from_states)},
              {"to", type_set_to_json(info.to_states)},
              {"description", info.description}};
}

void print_entries(std::ostream& out, const std::vector<PolicyEntry>& entries) {
  if (entries.empty()) out << "    (none)\n";
  // The name column fits the longest name (RemoveDeploymentConcurrencyLeaseForOldClientVersions
  // is 52 characters), so it never runs into the kind column.
  std::size_t width = 0;
  for (const PolicyEntry& e : entries) width = std::max(width, printable(e.info().name).size());
  int i = 1;
  for (const PolicyEntry& e : entries) {
    const RuleInfo& info = e.info();
    out << "    " << std::setw(2) << i++ << ". " << std::left
        << std::setw(static_cast<int>(width + 2)) << printable(info.name) << std::setw(10)
        << (e.kind() == EntryKind::kRule ? "rule" : "transform") << "FROM "
        << info.from_states.to_string() << "  TO " << info.to_states.to_string() << std::right
        << '\n';
  }
}

}  // namespace

void add_policy_commands(CLI::App& cli, Invocation& invocation) {
  CLI::App* policy = cli.add_subcommand("policy", "built-in policies and policy files");
  policy->require_subcommand(1);

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list = policy->add_subcommand("list", "the built-in policies");
  list->add_flag("--json", *list_json, "print JSON");
  list->callback([list_json] {
    Json out = Json::array();
    for (const BuiltinPolicy& p : builtin_policies()) {
      const Policy loaded = load_builtin_policy(p);
      if (*list_json) {
        out.push_back(Json{{"name", p.name},
                           {"alias", p.alias},
                           {"run_kind", p.kind ? Json(kind_name(*p.kind)) : Json(nullptr)},
                           {"description", p.description},
                           {"entries", p.entries.size()},
                           {"implemented", p.entries.size() - loaded.missing.size()}});
      } else {
        std::cout << std::left << std::setw(36) << p.name << std::setw(18) << p.alias
                  << p.description << "  [" << p.entries.size() - loaded.missing.size() << "/"
                  << p.entries.size() << " entries]\n";
      }
    }
    if (*list_json) print_json(Json{{"policies", out}});
  });

  struct ShowFlags {
    std::string ref;
    bool json = false;
    std::string kind = "flow";
  };
  auto flags = std::make_shared<ShowFlags>();
  CLI::App* show = policy->add_subcommand("show", "the chain a policy compiles to");
  show->add_option("NAME_OR_FILE", flags->ref, "built-in policy name/alias, or a policy file")
      ->required();
  show->add_option("--run-kind", flags->kind,
                   "for a file without \"transforms\": whose global transforms follow")
      ->check(CLI::IsMember({"flow", "task"}));
  show->add_flag("--json", flags->json, "print JSON");
  show->callback([flags, show] {
    const Policy p = resolve_policy(flags->ref);
    const BuiltinPolicy* builtin = find_builtin_policy(flags->ref);
    RunKind kind = flags->kind == "task" ? RunKind::kTask : RunKind::kFlow;
    if (builtin && builtin->kind) {
      kind = *builtin->kind;
    } else if (p.kind) {
      // A file whose built-ins are for one run kind lists that kind's global transforms.
      if (show->count("--run-kind") && kind != *p.kind)
        throw Error(ErrorKind::kUsage, "--run-kind " + flags->kind + ": policy file " + p.name +
                                           " is for " + std::string(kind_name(*p.kind)) +
                                           " runs (" + p.kind_source + ")");
      kind = *p.kind;
    }
    const std::vector<PolicyEntry> transforms = transforms_for(p, kind);
    const std::string transforms_from =
        p.transforms ? "this policy" : std::string(global_policy(kind).name);
    if (flags->json) {
      Json rules = Json::array(), tr = Json::array();
      for (const auto& e : p.rules) rules.push_back(entry_to_json(e));
      for (const auto& e : transforms) tr.push_back(entry_to_json(e));
      print_json(Json{{"name", p.name},
                      {"rules", rules},
                      {"transforms", tr},
                      {"transforms_from", transforms_from},
                      {"not_implemented", p.missing}});
      return;
    }
    std::cout << printable(p.name);
    if (builtin) std::cout << " (" << builtin->alias << "): " << builtin->description;
    std::cout << "\n  rules, entered in this order:\n";
    print_entries(std::cout, p.rules);
    std::cout << "  transforms (from " << transforms_from << "), entered after the rules:\n";
    print_entries(std::cout, transforms);
    if (!p.missing.empty()) {
      std::cout << "  Prefect entries not yet implemented by runctl:\n";
      for (const auto& m : p.missing) std::cout << "    " << m << '\n';
    }
  });

  add_policy_matrix_commands(policy, invocation);
}

}  // namespace runctl::cli
