#include "cli/completion.hpp"

#include <cctype>

#include "engine/state_type.hpp"
#include "policy/builtin_policies.hpp"

namespace runctl::cli {
namespace {

// What the value of an option (or a positional argument, by its name) may be.
enum class ValueKind {
  kAnything,
  kStateType,
  kStateTypeList,
  kPolicy,
  kFile,
  kRunKind,
  kShell,
  kPictureFormat,
};

struct ValueRule {
  std::string_view option;  // "--state", or a positional's name ("TYPE")
  ValueKind kind;
};

constexpr ValueRule kValueRules[] = {
    {"TYPE", ValueKind::kStateType},
    {"--state", ValueKind::kStateType},
    {"--expect-state", ValueKind::kStateTypeList},
    {"--policy", ValueKind::kPolicy},
    {"NAME_OR_FILE", ValueKind::kPolicy},
    {"POLICY", ValueKind::kPolicy},
    {"A", ValueKind::kPolicy},  // policy diff A B
    {"B", ValueKind::kPolicy},
    {"--format", ValueKind::kPictureFormat},
    {"--db", ValueKind::kFile},
    {"FILE", ValueKind::kFile},
    {"--run-kind", ValueKind::kRunKind},
    {"SHELL", ValueKind::kShell},
};

ValueKind value_kind(const CLI::Option& option) {
  for (const ValueRule& rule : kValueRules)
    if (option.check_name(std::string(rule.option))) return rule.kind;
  return ValueKind::kAnything;
}

std::vector<std::string> state_types(std::string_view head) {
  std::vector<std::string> names;
  for (int i = 0; i < kStateTypeCount; ++i)
    names.push_back(std::string(head) + std::string(type_name(static_cast<StateType>(i))));
  return names;
}

// The candidates for a value of this kind; `word` is what is typed so far (a list completes its
// last item).
std::vector<std::string> values_of(ValueKind kind, std::string_view word) {
  switch (kind) {
    case ValueKind::kStateType:
      return state_types("");
    case ValueKind::kStateTypeList: {
      const std::size_t comma = word.rfind(',');
      std::vector<std::string> names =
          state_types(comma == std::string_view::npos ? "" : word.substr(0, comma + 1));
      if (comma == std::string_view::npos) names.push_back("NONE");
      return names;
    }
    case ValueKind::kPolicy: {
      std::vector<std::string> names;
      for (const BuiltinPolicy& policy : builtin_policies()) names.emplace_back(policy.name);
      names.emplace_back(kFilesDirective);
      return names;
    }
    case ValueKind::kFile:
      return {std::string(kFilesDirective)};
    case ValueKind::kRunKind:
      return {"flow", "task"};
    case ValueKind::kPictureFormat:
      return {"text", "json", "mermaid", "dot", "svg"};
    case ValueKind::kShell: {
      std::vector<std::string> names;
      for (std::string_view shell : completion_shells()) names.emplace_back(shell);
      return names;
    }
    case ValueKind::kAnything:
      break;
  }
  return {};
}

bool visible(const CLI::App& command) {
  return !command.get_group().empty();
}

std::vector<const CLI::App*> subcommands_of(const CLI::App& command) {
  return command.get_subcommands([](const CLI::App*) { return true; });
}

const CLI::App* subcommand_named(const CLI::App& command, std::string_view name) {
  for (const CLI::App* sub : subcommands_of(command))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

// The option `word` names ("--db", "--db=x", "-v") on this command or on the root, or nullptr.
const CLI::Option* option_named(const CLI::App& command, const CLI::App& root,
                                std::string_view word) {
  const std::string name(word.substr(0, word.find('=')));
  for (const CLI::App* level : {&command, &root})
    for (const CLI::Option* option : level->get_options())
      if (option->nonpositional() && option->check_name(name)) return option;
  return nullptr;
}

bool takes_value(const CLI::Option& option) {
  return option.get_type_size() != 0;
}

// Where the words before the cursor leave us: the command reached, how many of its positional
// arguments are given, and the option whose value is under the cursor, if any.
struct Position {
  const CLI::App* command;
  int positionals = 0;
  const CLI::Option* awaiting_value = nullptr;
};

Position walk(const CLI::App& root, const std::vector<std::string>& words) {
  Position at{&root};
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& word = words[i];
    at.awaiting_value = nullptr;
    if (word.starts_with("-")) {
      const CLI::Option* option = option_named(*at.command, root, word);
      if (option && takes_value(*option) && word.find('=') == std::string::npos) {
        if (i + 2 == words.size()) at.awaiting_value = option;  // its value is under the cursor
        ++i;
      }
      continue;
    }
    if (const CLI::App* sub = subcommand_named(*at.command, word); sub && at.positionals == 0) {
      at.command = sub;
      continue;
    }
    ++at.positionals;
  }
  return at;
}

// The positional argument the next word fills, or nullptr.
const CLI::Option* positional_at(const CLI::App& command, int index) {
  for (const CLI::Option* option : command.get_options()) {
    if (option->nonpositional()) continue;
    const int expected = option->get_items_expected_max();
    if (expected < 0 || expected > 1000 || index < expected)
      return option;  // a list takes the rest
    index -= expected;
  }
  return nullptr;
}

std::vector<std::string> option_names(const CLI::App& command, const CLI::App& root) {
  std::vector<std::string> names;
  const auto add = [&names](const CLI::App& level) {
    for (const CLI::Option* option : level.get_options()) {
      if (!option->nonpositional() || option->get_group().empty()) continue;
      for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    }
  };
  add(command);
  if (&command != &root) add(root);
  return names;
}

// Case-insensitive, so that `run<TAB>` offers RUNNING: state types are taken in any case.
bool starts_with_folded(std::string_view text, std::string_view prefix) {
  if (prefix.size() > text.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

std::vector<std::string> candidates(const CLI::App& root, const std::vector<std::string>& words) {
  const std::string& word = words.back();
  const Position at = walk(root, words);
  if (at.awaiting_value) return values_of(value_kind(*at.awaiting_value), word);
  if (word.starts_with("--") && word.find('=') != std::string::npos) {
    const CLI::Option* option = option_named(*at.command, root, word);
    if (!option) return {};
    const std::string head = word.substr(0, word.find('=') + 1);
    std::vector<std::string> values;
    for (const std::string& value :
         values_of(value_kind(*option), std::string_view(word).substr(head.size())))
      values.push_back(value == kFilesDirective ? value : head + value);
    return values;
  }
  if (word.starts_with("-")) return option_names(*at.command, root);
  std::vector<std::string> names;
  if (at.positionals == 0)
    for (const CLI::App* sub : subcommands_of(*at.command))
      if (visible(*sub)) names.push_back(sub->get_name());
  if (!names.empty()) return names;
  if (const CLI::Option* positional = positional_at(*at.command, at.positionals))
    return values_of(value_kind(*positional), word);
  return {};
}

}  // namespace

std::vector<std::string> complete_words(const CLI::App& root,
                                        const std::vector<std::string>& words) {
  const std::vector<std::string> typed = words.empty() ? std::vector<std::string>{""} : words;
  std::vector<std::string> matching;
  for (std::string& candidate : candidates(root, typed))
    if (candidate == kFilesDirective || starts_with_folded(candidate, typed.back()))
      matching.push_back(std::move(candidate));
  return matching;
}

}  // namespace runctl::cli
