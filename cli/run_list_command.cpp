// flow-run list, task-run list: find runs by state, name, tag, parent and age.
#include <iostream>

#include "cli/bounded_output.hpp"
#include "cli/invocation.hpp"
#include "cli/render.hpp"
#include "service/transition.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

constexpr std::int64_t kDefaultLimit = 100;

struct ListFlags {
  std::vector<std::string> states;
  std::optional<std::string> name, tag, deployment, flow_run, older_than, newer_than;
  std::int64_t limit = kDefaultLimit;
  bool json = false;
};

// One entry of the list: the run's own fields, as `show --json` has them, without its state.
Json listed_run_json(const Run& run) {
  Json fields = run_to_json(run, nullptr);
  fields.erase("state");
  return fields;
}

void print_listed_run(std::ostream& out, const Run& run) {
  out << run.id << "  "
      << (run.state_type ? std::string(type_name(*run.state_type)) : std::string("NONE"));
  if (run.state_name) out << " '" << printable(*run.state_name) << "'";
  if (run.state_timestamp) out << " since " << format_timestamp(*run.state_timestamp);
  out << "  " << printable(run.name) << '\n';
}

}  // namespace

void add_run_list_command(CLI::App* group, Invocation& invocation, RunKind kind) {
  const std::string noun = kind == RunKind::kFlow ? "flow runs" : "task runs";
  auto flags = std::make_shared<ListFlags>();
  CLI::App* list = group->add_subcommand(
      "list", noun + " matching every filter given, oldest current state first");
  list->add_option("--state", flags->states,
                   "current state type (repeatable, or TYPE,TYPE; NONE: no state)");
  list->add_option("--name", flags->name, "run name glob, e.g. 'nightly-*'");
  list->add_option("--tag", flags->tag, "runs with this tag");
  if (kind == RunKind::kFlow)
    list->add_option(
        "--deployment", flags->deployment,
        "DEPLOYMENT: flow runs of this deployment (an id, a unique prefix (4+ hex) or a name)");
  else
    list->add_option(
        "--flow-run", flags->flow_run,
        "RUN: task runs of this flow run (its id, a unique prefix (4+ hex) or its name)");
  list->add_option("--older-than", flags->older_than,
                   "current state entered longer ago than this (90s, 15m, 1h30m, 2d; against "
                   "--now)");
  list->add_option("--newer-than", flags->newer_than,
                   "current state entered at most this long ago");
  list->add_option("--limit", flags->limit, "print at most N runs (default 100)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000}));
  list->add_flag("--json", flags->json, "print one JSON object: runs, truncated, limit");

  list->callback([&invocation, flags, kind] {
    RunFilter filter;
    filter.kind = kind;
    for (const std::string& states : flags->states)
      filter.states = filter.states | parse_expected_state(states, "--state");
    filter.name_glob = flags->name;
    filter.tag = flags->tag;
    if (flags->older_than)
      filter.state_before = duration_ago(invocation.clock(), *flags->older_than, "--older-than");
    if (flags->newer_than)
      filter.state_since = duration_ago(invocation.clock(), *flags->newer_than, "--newer-than");
    filter.limit = flags->limit + 1;  // one more than shown says whether there are more

    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    if (flags->deployment)
      filter.deployment_id = resolve_reference(*db, Referent::kDeployment, *flags->deployment);
    if (flags->flow_run)
      filter.flow_run_id = resolve_reference(*db, Referent::kFlowRun, *flags->flow_run);
    std::vector<std::string> ids = db->runs().list_run_ids(filter);
    const bool truncated = static_cast<std::int64_t>(ids.size()) > flags->limit;
    if (truncated) ids.resize(static_cast<std::size_t>(flags->limit));
    std::vector<Run> runs;
    runs.reserve(ids.size());
    for (const std::string& id : ids)
      if (std::optional<Run> run = db->runs().load_run(kind, id)) runs.push_back(std::move(*run));

    if (flags->json) {
      Json list = Json::array();
      for (const Run& run : runs) list.push_back(listed_run_json(run));
      print_json(Json{{"runs", list}, {"truncated", truncated}, {"limit", flags->limit}});
      return;
    }
    for (const Run& run : runs) print_listed_run(std::cout, run);
    if (truncated)
      std::cerr << "runctl: the first " << flags->limit
                << " runs are shown and more match (use --limit for more)\n";
  });
}

}  // namespace runctl::cli
