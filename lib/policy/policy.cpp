#include "policy/policy.hpp"

#include <sys/stat.h>
#include <fstream>
#include <sstream>

#include "rules/registry.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl {
namespace {

// Policy files are small; anything larger is a mistake, refused before parsing it.
constexpr std::int64_t kMaxPolicyFileBytes = 4 * 1024 * 1024;

}  // namespace

Policy load_builtin_policy(const BuiltinPolicy& builtin) {
  Policy p;
  p.name = std::string(builtin.name);
  p.kind = builtin.kind;
  for (std::string_view name : builtin.entries) {
    if (const BuiltinEntry* e = find_builtin_entry(name))
      p.rules.push_back(e->entry);
    else
      p.missing.emplace_back(name);
  }
  if (builtin.global) {
    // A global policy is a list of transforms; as a policy it has them and no others.
    p.transforms = std::move(p.rules);
    p.rules.clear();
  }
  return p;
}

Policy load_policy_file(const std::string& path) {
  struct stat st {};
  // Not found (66), as for a missing run or database: the file may be fine once it exists.
  if (::stat(path.c_str(), &st) != 0) {
    // A mistyped built-in name ("CoreFlow", "coreflow") lands here too: suggest the closest
    // name or alias, by its name.
    std::vector<std::string> names;
    for (const BuiltinPolicy& p : builtin_policies()) {
      names.emplace_back(p.name);
      names.emplace_back(p.alias);
    }
    std::string hint;
    if (const auto match = closest_match(path, names))
      hint = "; did you mean " + std::string(find_builtin_policy(*match)->name) + "?";
    throw Error(
        ErrorKind::kNotFound,
        "policy file " + path + ": no such file (and no built-in policy of that name" + hint + ")");
  }
  if (S_ISDIR(st.st_mode))
    throw Error(ErrorKind::kBadPolicy, "policy file " + path + ": is a directory");
  if (st.st_size > kMaxPolicyFileBytes)
    throw Error(ErrorKind::kBadPolicy, "policy file " + path + ": " + std::to_string(st.st_size) +
                                           " bytes, larger than the 4 MiB a policy file may have");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::kBadPolicy, "policy file " + path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_policy(text.str(), path);
}

Policy resolve_policy(const std::string& ref) {
  if (const BuiltinPolicy* builtin = find_builtin_policy(ref)) return load_builtin_policy(*builtin);
  return load_policy_file(ref);
}

Policy choose_policy(RunKind kind, const std::optional<std::string>& policy_ref, bool force,
                     bool deferred) {
  if (kind == RunKind::kTask && deferred) return load_builtin_policy(background_task_policy());
  if (force) return load_builtin_policy(minimal_policy(kind));
  if (policy_ref) {
    Policy policy = resolve_policy(*policy_ref);
    check_policy_kind(policy, kind);
    return policy;
  }
  return load_builtin_policy(core_policy(kind));
}

void check_policy_kind(const Policy& policy, RunKind kind) {
  if (!policy.kind || *policy.kind == kind) return;
  const std::string want(kind_name(kind)), have(kind_name(*policy.kind));
  std::string what = "--policy " + policy.name + ": ";
  if (policy.kind_source.empty()) {
    what += "a policy for " + have + " runs, and the run is a " + want + " run";
    // The same policy for the other kind, where Prefect has one.
    const std::string_view name = policy.name;
    std::string hint = "runctl policy list shows each policy's run kind";
    for (const char* family : {"Core", "Minimal", "Global"}) {
      const std::string from = std::string(family) + (kind == RunKind::kFlow ? "Task" : "Flow");
      if (name == from + "Policy")
        hint = "use " + std::string(family) + (kind == RunKind::kFlow ? "Flow" : "Task") + "Policy";
    }
    what += " (" + hint + ", or leave --policy out for the " + want + " runs' core policy)";
  } else {
    what += "the file is for " + have + " runs (" + policy.kind_source + "), and the run is a " +
            want + " run";
  }
  throw Error(ErrorKind::kUsage, what);
}

std::vector<PolicyEntry> transforms_for(const Policy& policy, RunKind kind) {
  if (policy.transforms) return *policy.transforms;
  return load_builtin_policy(global_policy(kind)).transforms.value_or(std::vector<PolicyEntry>{});
}

}  // namespace runctl
