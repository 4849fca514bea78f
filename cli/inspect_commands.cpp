// show, history, log: read-only views of a run; history and log take --since and --limit,
// history --format too (its pictures: cli/history_picture.hpp).
#include <iostream>
#include <set>
#include <sstream>

#include "cli/bounded_output.hpp"
#include "cli/history_picture.hpp"
#include "cli/invocation.hpp"
#include "cli/picture.hpp"
#include "cli/render.hpp"
#include "util/error.hpp"

namespace runctl::cli {
namespace {

struct RunView {
  std::string run_id;
  bool json = false;
  std::string format = "text";
  WindowFlags window;
};

// What a view prints from, besides the run: --json and the --since/--limit window.
struct ViewOptions {
  bool json = false;  // --json, or --format json
  std::string format = "text";
  Window window;
};

Run load_run_or_throw(Database& db, const std::string& id) {
  const auto kind = db.runs().find_run_kind(id);
  if (!kind) throw Error(ErrorKind::kNotFound, "run " + id + " not found");
  return *db.runs().load_run(*kind, id);
}

// `noun` names the entries of a bounded view (--since, --limit); empty: the view has none.
// `pictures`: the view takes --format, its pictures besides text and json.
template <typename Print>
void add_view(CLI::App& cli, Invocation& invocation, const std::string& name,
              const std::string& help, const std::string& noun, Print print,
              bool pictures = false) {
  auto view = std::make_shared<RunView>();
  CLI::App* cmd = cli.add_subcommand(name, help);
  cmd->add_option("RUN", view->run_id, "RUN: a run id, a unique prefix (4+ hex) or a run name")
      ->required();
  cmd->add_flag("--json", view->json, "print JSON");
  if (pictures)
    cmd->add_option("--format", view->format,
                    "text, json (the same as --json), mermaid, dot or svg (needs Graphviz)")
        ->check(CLI::IsMember({"text", "json", "mermaid", "dot", "svg"}));
  if (!noun.empty()) add_window_flags(cmd, view->window, noun);
  cmd->callback([&invocation, view, print] {
    // Flags before the database: a bad --limit is a usage error whatever the database holds.
    const ViewOptions options{view->json || view->format == "json",
                              view->json ? "json" : view->format,
                              read_window(invocation, view->window)};
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    const std::string id = resolve_reference(*db, Referent::kRun, view->run_id);
    Run run = load_run_or_throw(*db, id);
    print(*db, run, options);
  });
}

// The JSON object of a view: its list, and with --limit whether entries were cut. Without
// --limit the shape is what it always was.
Json view_json(const Run& run, const char* key, Json list, const ViewOptions& options,
               bool truncated) {
  Json out{{"run_id", run.id}, {"run_kind", kind_name(run.kind)}, {key, std::move(list)}};
  if (options.window.limit) {
    out["truncated"] = truncated;
    out["limit"] = *options.window.limit;
  }
  return out;
}

// The states a log's "=> STATE" names. A bounded log looks up only the states its entries
// name, so a long history is not read to print ten lines.
std::vector<StatePtr> states_named_by(Database& db, const Run& run,
                                      const std::vector<LogEntry>& entries, bool bounded) {
  if (!bounded) return db.runs().load_history(run);
  std::vector<StatePtr> out;
  std::set<std::string> seen;
  for (const LogEntry& e : entries) {
    if (!e.validated_state_id || !seen.insert(*e.validated_state_id).second) continue;
    if (StatePtr s = db.runs().load_state(run, *e.validated_state_id)) out.push_back(std::move(s));
  }
  return out;
}

// The picture of the states shown, with the attempts not accepted since the oldest of them.
// --limit bounds those attempts too: a run polled into WAIT for hours has thousands.
void print_history_picture(Database& db, const Run& run, std::vector<StatePtr> states,
                           bool truncated, const ViewOptions& options) {
  ReadWindow read{options.window.read.since, std::nullopt};
  if (truncated && !states.empty()) read.since = states.front()->timestamp;
  HistoryPicture picture{&run, std::move(states), {}, truncated || read.since.has_value()};
  for (LogEntry& e : db.runs().load_log(run.id, read))
    if (shown_attempt(e)) picture.attempts.push_back(std::move(e));
  const bool attempts_cut = keep_newest(picture.attempts, options.window);
  if (options.format == "mermaid") {
    print_history_mermaid(std::cout, picture);
  } else if (options.format == "dot") {
    print_history_dot(std::cout, picture);
  } else {
    std::ostringstream dot;
    print_history_dot(dot, picture);
    print_svg(dot.str());
  }
  if (truncated) note_truncated(*options.window.limit, "states");
  if (attempts_cut) note_truncated(*options.window.limit, "attempts not accepted");
}

}  // namespace

void add_inspect_commands(CLI::App& cli, Invocation& invocation) {
  add_view(cli, invocation, "show", "a run's fields and current state", "",
           [](Database& db, const Run& run, const ViewOptions& options) {
             const StatePtr state = db.runs().load_current_state(run);
             if (options.json)
               print_json(run_to_json(run, state));
             else
               print_run_text(std::cout, run, state);
           });
  add_view(
      cli, invocation, "history", "a run's states, oldest first", "states",
      [](Database& db, const Run& run, const ViewOptions& options) {
        auto states = db.runs().load_history(run, options.window.read);
        const bool truncated = keep_newest(states, options.window);
        if (options.json) {
          Json list = Json::array();
          for (const auto& s : states) list.push_back(state_to_json(*s));
          print_json(view_json(run, "states", std::move(list), options, truncated));
          return;
        }
        if (options.format != "text") {
          print_history_picture(db, run, std::move(states), truncated, options);
          return;
        }
        print_history_text(std::cout, states);
        if (truncated) note_truncated(*options.window.limit, "states");
      },
      true);
  add_view(cli, invocation, "log", "a run's orchestration attempts, oldest first", "log entries",
           [](Database& db, const Run& run, const ViewOptions& options) {
             auto entries = db.runs().load_log(run.id, options.window.read);
             const bool truncated = keep_newest(entries, options.window);
             if (options.json) {
               Json list = Json::array();
               for (const auto& e : entries) list.push_back(log_entry_to_json(e));
               print_json(view_json(run, "entries", std::move(list), options, truncated));
               return;
             }
             print_log_text(std::cout, entries,
                            states_named_by(db, run, entries, options.window.read.bounded()));
             if (truncated) note_truncated(*options.window.limit, "log entries");
           });
}

}  // namespace runctl::cli
