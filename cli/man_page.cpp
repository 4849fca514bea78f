#include "cli/man_page.hpp"

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

namespace runctl::cli {
namespace {

constexpr std::string_view kDescription =
    "runctl keeps flow runs and task runs in a SQLite file (created on first use) or a PostgreSQL "
    "database, and decides every state change as a Prefect server does: a chain of orchestration "
    "rules (a built-in policy, or a policy file) accepts the proposed state, rejects it for "
    "another, tells the caller to wait, or aborts it. Each command prints the status, the reason, "
    "the validated state and the rule and finalization signatures, as text or with --json as one "
    "JSON object. Every write is one transaction.";

// Text as roff shows it literally: backslashes escaped, hyphens as minus signs (so that options
// can be searched and copied), and a leading dot or quote kept from being read as a request.
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  std::string escaped;
  bool line_start = true;
  for (char c : out) {
    if (line_start && (c == '.' || c == '\'')) escaped += "\\&";
    escaped += c;
    line_start = c == '\n';
  }
  return escaped;
}

std::string usage_of(const CLI::App& command, const std::string& path) {
  std::string usage = "runctl " + path;
  bool has_options = false;
  for (const CLI::Option* option : command.get_options()) {
    if (option->nonpositional()) {
      has_options = has_options || option->get_name() != "--help";
      continue;
    }
    const std::string name = option->get_name();
    usage += option->get_required() ? " " + name : " [" + name + "]";
    if (option->get_items_expected_max() > 1) usage += "...";
  }
  if (has_options) usage += " [OPTIONS]";
  if (!command.get_subcommands([](const CLI::App*) { return true; }).empty()) usage += " COMMAND";
  return usage;
}

void options_section(std::string& page, const CLI::App& command) {
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_group().empty() || option->get_name() == "--help") continue;
    page += ".TP\n.B " +
            roff(option->nonpositional() ? option_synopsis(*option) : option->get_name()) + "\n" +
            roff(option->get_description()) + "\n";
  }
}

void command_section(std::string& page, const CLI::App& command, const std::string& path) {
  page += ".SS " + roff(path) + "\n";
  page +=
      ".B " + roff(usage_of(command, path)) + "\n.PP\n" + roff(command.get_description()) + "\n";
  options_section(page, command);
  const std::vector<std::string_view> examples = examples_for(path);
  if (!examples.empty()) {
    page += ".PP\nExamples:\n.RS\n.nf\n";
    for (std::string_view example : examples) page += roff(example) + "\n";
    page += ".fi\n.RE\n";
  }
  for (const CLI::App* sub : command.get_subcommands([](const CLI::App*) { return true; }))
    if (!sub->get_group().empty()) command_section(page, *sub, path + " " + sub->get_name());
}

}  // namespace

std::string man_page(const CLI::App& root) {
  std::string page;
  page += ".TH RUNCTL 1 \"\" \"runctl " RUNCTL_VERSION "\" \"User Commands\"\n";
  page += ".SH NAME\nrunctl \\- " +
          roff(root.get_description().substr(root.get_description().find(' ') + 1)) + "\n";
  page += ".SH SYNOPSIS\n.B runctl\n[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n";
  page += ".br\n.B runctl help\n[\\fICOMMAND\\fR...]\n";
  page += ".SH DESCRIPTION\n" + roff(kDescription) + "\n";
  page += ".SH GLOBAL OPTIONS\nThey may come before or after the command.\n";
  options_section(page, root);
  page += ".SH COMMANDS\n";
  for (const CLI::App* sub : root.get_subcommands([](const CLI::App*) { return true; }))
    if (!sub->get_group().empty()) command_section(page, *sub, sub->get_name());
  page += ".SH EXIT STATUS\n.nf\n" +
          roff(exit_codes_help().substr(exit_codes_help().find(":\n") + 2)) + ".fi\n";
  page +=
      ".SH ENVIRONMENT\n"
      ".TP\n.B RUNCTL_DB\nthe database when \\-\\-db is not given\n"
      ".TP\n.B RUNCTL_NOW\nthe clock when \\-\\-now is not given\n"
      ".TP\n.B RUNCTL_SEED\nthe random seed when \\-\\-seed is not given\n"
      ".TP\n.B PGHOST, PGUSER, PGPASSWORD, PGSERVICE, ...\nread by libpq for a postgresql:// "
      "database, as libpq documents\n";
  page +=
      ".SH SEE ALSO\n"
      "The project's docs/cli.md, docs/exit-codes.md and docs/policy-files.md.\n";
  return page;
}

}  // namespace runctl::cli
