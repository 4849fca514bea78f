// Policy files: JSON -> Policy, with every problem reported as "file: $.json.path: what".
#include <algorithm>
#include <set>

#include "engine/state_json.hpp"
#include "policy/declarative.hpp"
#include "policy/policy.hpp"
#include "rules/registry.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl {
namespace {

class PolicyParser {
 public:
  explicit PolicyParser(std::string origin) : origin_(std::move(origin)) {}

  Policy parse(std::string_view text) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
      fail("$", text.empty() ? "the file is empty; a policy file is a JSON object such as "
                               "{\"rules\": [\"@core-flow\"]}"
                             : "the file holds only white space; a policy file is a JSON object "
                               "such as {\"rules\": [\"@core-flow\"]}");
    Json root;
    // Before parsing: the parser copes with any depth, but copying or printing a value nested
    // 100,000 levels deep (a rejection state's data) would overflow the stack.
    if (auto problem = json_depth_problem(text)) fail("$", "not valid JSON: " + *problem);
    try {
      root = Json::parse(text.begin(), text.end());
    } catch (const Json::exception& e) {
      fail("$", std::string("not valid JSON: ") + without_json_exception_tag(e.what()));
    }
    if (!root.is_object()) fail("$", "expected an object with \"rules\" and \"transforms\"");
    check_keys(root, "$", {"rules", "transforms"});

    Policy policy;
    policy.name = origin_;
    if (auto it = root.find("rules"); it != root.end())
      policy.rules = entries(*it, "$.rules", EntryKind::kRule);
    if (auto it = root.find("transforms"); it != root.end())
      policy.transforms = entries(*it, "$.transforms", EntryKind::kTransform);
    policy.missing = missing_;
    policy.kind = kind_;
    policy.kind_source = kind_source_;
    return policy;
  }

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw Error(ErrorKind::kBadPolicy, "policy file " + origin_ + ": " + path + ": " + what);
  }

  void check_keys(const Json& object, const std::string& path,
                  std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : object.items()) {
      bool known = false;
      for (std::string_view a : allowed) known = known || key == a;
      if (!known) {
        std::string list;
        for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(path, "unknown key \"" + key + "\" (expected " + list + ")");
      }
    }
  }

  // Strings become state names, messages and rule names: no NUL bytes ("\u0000" is valid JSON)
  // and no megabyte names (util/text.hpp).
  std::string string_at(const Json& v, const std::string& path,
                        std::size_t max_bytes = kMaxMessageBytes) const {
    if (!v.is_string()) fail(path, "expected a string");
    if (auto problem = text_problem(v.get_ref<const std::string&>(), max_bytes))
      fail(path, "the string " + *problem);
    return v.get<std::string>();
  }

  std::optional<std::string> optional_string_at(const Json& object, const char* key,
                                                const std::string& path,
                                                std::size_t max_bytes = kMaxMessageBytes) const {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return std::nullopt;
    return string_at(*it, path + "." + key, max_bytes);
  }

  void add_name(const std::string& name, const std::string& path) {
    if (!names_.insert(name).second) fail(path, "duplicate name \"" + name + "\"");
  }

  std::vector<PolicyEntry> entries(const Json& list, const std::string& path, EntryKind kind) {
    if (!list.is_array()) fail(path, "expected an array");
    std::vector<PolicyEntry> out;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string at = path + "[" + std::to_string(i) + "]";
      const Json& item = list[i];
      if (item.is_string())
        named_entries(item.get<std::string>(), at, kind, out);
      else if (item.is_object())
        out.push_back(kind == EntryKind::kRule ? declarative_rule(item, at)
                                               : declarative_transform(item, at));
      else
        fail(at, "expected a built-in name, \"@policy\" or a rule object");
    }
    return out;
  }

  void named_entries(const std::string& name, const std::string& at, EntryKind kind,
                     std::vector<PolicyEntry>& out) {
    if (!name.empty() && name[0] == '@') {
      const BuiltinPolicy* builtin = find_builtin_policy(name.substr(1));
      if (!builtin) {
        std::vector<std::string> names;
        for (const BuiltinPolicy& p : builtin_policies()) {
          names.emplace_back(p.name);
          names.emplace_back(p.alias);
        }
        const auto match = closest_match(name.substr(1), names);
        fail(at, "unknown built-in policy \"" + name.substr(1) + "\"" +
                     (match ? " (did you mean \"@" + *match + "\"?)" : std::string()));
      }
      if (builtin->global && kind == EntryKind::kRule)
        fail(at, "\"" + name + "\" is a global policy: splice it into \"transforms\"");
      if (builtin->kind) note_kind(*builtin->kind, name, at);
      Policy spliced = load_builtin_policy(*builtin);
      missing_.insert(missing_.end(), spliced.missing.begin(), spliced.missing.end());
      auto& source = builtin->global ? *spliced.transforms : spliced.rules;
      for (PolicyEntry& e : source) {
        check_kind(e, at, kind);
        add_name(e.name(), at);
        out.push_back(std::move(e));
      }
      return;
    }
    const BuiltinEntry* builtin = find_builtin_entry(name);
    if (!builtin) {
      const bool prefect_name = std::any_of(
          builtin_policies().begin(), builtin_policies().end(), [&](const BuiltinPolicy& p) {
            return std::find(p.entries.begin(), p.entries.end(), name) != p.entries.end();
          });
      if (prefect_name) fail(at, "built-in \"" + name + "\" is not implemented by this runctl yet");
      std::vector<std::string> names;
      for (const BuiltinEntry& e : builtin_entries()) names.push_back(e.entry.name());
      fail(at, "unknown built-in rule or transform \"" + name + "\"" + did_you_mean(name, names));
    }
    if (builtin->scope == RunScope::kFlow) note_kind(RunKind::kFlow, name, at);
    if (builtin->scope == RunScope::kTask) note_kind(RunKind::kTask, name, at);
    check_kind(builtin->entry, at, kind);
    add_name(name, at);
    out.push_back(builtin->entry);
  }

  // A policy file's run kind is that of the run-kind-specific built-ins it names or splices; one
  // file cannot hold both kinds, as no run could take all of its entries.
  void note_kind(RunKind k, const std::string& name, const std::string& at) {
    const std::string source = "\"" + name + "\" at " + at;
    if (!kind_) {
      kind_ = k;
      kind_source_ = source;
      return;
    }
    if (*kind_ != k)
      fail(at, "\"" + name + "\" is for " + std::string(kind_name(k)) +
                   " runs, but the file is for " + std::string(kind_name(*kind_)) + " runs (" +
                   kind_source_ + "); one policy cannot mix the two");
  }

  void check_kind(const PolicyEntry& e, const std::string& at, EntryKind kind) const {
    // A policy's rule list may hold transforms at any position (Prefect's do); the transform list
    // holds transforms only.
    if (kind == EntryKind::kTransform && e.kind() == EntryKind::kRule)
      fail(at, "\"" + e.name() + "\" is a rule; \"transforms\" takes transforms only");
  }

  StateTypeSet type_set(const Json& object, const char* key, const std::string& path) const {
    auto it = object.find(key);
    if (it == object.end()) return {};  // Prefect's default FROM_STATES / TO_STATES: empty
    const std::string at = path + "." + key;
    if (it->is_string() && it->get<std::string>() == "*") return StateTypeSet::all();
    if (!it->is_array()) fail(at, "expected \"*\" or an array of state types and \"NONE\"");
    StateTypeSet set;
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string item_at = at + "[" + std::to_string(i) + "]";
      auto type = parse_maybe_type(string_at((*it)[i], item_at));
      if (!type) fail(item_at, "unknown state type \"" + (*it)[i].get<std::string>() + "\"");
      set.add(*type);
    }
    return set;
  }

  StateProposal state(const Json& v, const std::string& path) const {
    if (!v.is_object()) fail(path, "expected a state object or null");
    check_keys(v, path, {"type", "name", "message", "state_details", "data"});
    auto it = v.find("type");
    if (it == v.end()) fail(path, "missing key \"type\"");
    auto type = parse_state_type(string_at(*it, path + ".type"));
    if (!type) fail(path + ".type", "unknown state type \"" + it->get<std::string>() + "\"");
    StateProposal p;
    p.type = *type;
    p.name = optional_string_at(v, "name", path, kMaxNameBytes);
    p.message = optional_string_at(v, "message", path);
    if (auto d = v.find("state_details"); d != v.end() && !d->is_null()) {
      try {
        check_state_details_keys(*d, path + ".state_details");
        apply_state_details(*d, p.details, path + ".state_details");
      } catch (const Error& e) {
        throw Error(ErrorKind::kBadPolicy, "policy file " + origin_ + ": " + e.what());
      }
    }
    if (auto d = v.find("data"); d != v.end()) p.data = *d;
    return p;
  }

  std::optional<std::string> reason(const Json& body, const std::string& path) const {
    return optional_string_at(body, "reason", path);
  }

  Action action(const Json& v, const std::string& path) const {
    if (!v.is_object() || v.size() != 1)
      fail(path, "expected an object with exactly one action key");
    // Not `*v.items().begin()` bound by reference: the key would refer into a temporary that is
    // gone by the next line (AddressSanitizer: stack-use-after-scope, found by fuzz_policy_file).
    const auto first = v.begin();
    const std::string verb = first.key();
    const Json& body = first.value();
    const std::string at = path + "." + verb;
    Action a{};
    if (verb == "reject") {
      a.kind = Action::Kind::kReject;
      if (!body.is_object()) fail(at, "expected {\"state\": STATE|null, \"reason\": ...}");
      check_keys(body, at, {"state", "reason"});
      if (auto s = body.find("state"); s != body.end() && !s->is_null())
        a.state = state(*s, at + ".state");
      a.reason = reason(body, at);
    } else if (verb == "delay") {
      a.kind = Action::Kind::kDelay;
      if (!body.is_object()) fail(at, "expected {\"seconds\": INT, \"reason\": ...}");
      check_keys(body, at, {"seconds", "reason"});
      auto s = body.find("seconds");
      if (s == body.end()) fail(at, "missing key \"seconds\"");
      if (!s->is_number_integer() ||
          (s->is_number_unsigned() &&
           s->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
        fail(at + ".seconds", "expected an integer number of seconds");
      a.seconds = s->get<std::int64_t>();
      a.reason = reason(body, at);
    } else if (verb == "abort") {
      a.kind = Action::Kind::kAbort;
      if (!body.is_object()) fail(at, "expected {\"reason\": ...}");
      check_keys(body, at, {"reason"});
      a.reason = reason(body, at);
    } else if (verb == "rename") {
      a.kind = Action::Kind::kRename;
      a.text = string_at(body, at, kMaxNameBytes);
    } else if (verb == "set_parameter") {
      a.kind = Action::Kind::kSetParameter;
      if (!body.is_object()) fail(at, "expected {\"key\": STRING, \"value\": ANY}");
      check_keys(body, at, {"key", "value"});
      auto k = body.find("key");
      if (k == body.end()) fail(at, "missing key \"key\"");
      a.key = string_at(*k, at + ".key", kMaxNameBytes);
      auto val = body.find("value");
      if (val == body.end()) fail(at, "missing key \"value\"");
      a.value = *val;
    } else if (verb == "fail") {
      a.kind = Action::Kind::kFail;
      a.text = string_at(body, at);
    } else if (verb == "record") {
      a.kind = Action::Kind::kRecord;
      a.text = string_at(body, at);
    } else {
      fail(path, "unknown action \"" + verb +
                     "\" (expected reject, delay, abort, rename, set_parameter, fail or record)");
    }
    return a;
  }

  ActionList actions(const Json& object, const char* key, const std::string& path) const {
    auto it = object.find(key);
    if (it == object.end()) return {};
    const std::string at = path + "." + key;
    if (!it->is_array()) fail(at, "expected an array of actions");
    ActionList out;
    for (size_t i = 0; i < it->size(); ++i)
      out.push_back(action((*it)[i], at + "[" + std::to_string(i) + "]"));
    return out;
  }

  RuleInfo info(const Json& v, const std::string& path, const char* description) {
    auto n = v.find("name");
    if (n == v.end()) fail(path, "missing key \"name\"");
    RuleInfo info;
    info.name = string_at(*n, path + ".name", kMaxNameBytes);
    if (info.name.empty()) fail(path + ".name", "must not be empty");
    add_name(info.name, path + ".name");
    info.from_states = type_set(v, "from", path);
    info.to_states = type_set(v, "to", path);
    info.description = description;
    return info;
  }

  PolicyEntry declarative_rule(const Json& v, const std::string& path) {
    check_keys(v, path, {"name", "from", "to", "before", "after", "cleanup"});
    RuleInfo ri = info(v, path, "declarative rule");
    PolicyEntry e;
    e.rule =
        std::make_shared<DeclarativeRule>(std::move(ri), actions(v, "before", path),
                                          actions(v, "after", path), actions(v, "cleanup", path));
    return e;
  }

  PolicyEntry declarative_transform(const Json& v, const std::string& path) {
    // "from"/"to" are accepted and ignored: a transform fires on every transition.
    check_keys(v, path, {"name", "from", "to", "before", "after"});
    RuleInfo ri = info(v, path, "declarative transform");  // checks "from"/"to" all the same
    PolicyEntry e;
    e.transform = std::make_shared<DeclarativeTransform>(
        TransformInfo{.name = std::move(ri.name), .description = std::move(ri.description)},
        actions(v, "before", path), actions(v, "after", path));
    return e;
  }

  std::string origin_;
  std::set<std::string> names_;
  std::vector<std::string> missing_;  // unimplemented entries of spliced built-in policies
  std::optional<RunKind> kind_;       // see note_kind()
  std::string kind_source_;
};

}  // namespace

Policy parse_policy(std::string_view text, const std::string& origin) {
  return PolicyParser(origin).parse(text);
}

}  // namespace runctl
