// show, history, log: read-only views of a run.
#include <iostream>

#include "cli/app.hpp"
#include "cli/render.hpp"
#include "util/error.hpp"

namespace runctl::cli {
namespace {

struct RunView {
  std::string run_id;
  bool json = false;
};

Run load_run_or_throw(Database& db, const std::string& id) {
  const auto kind = db.runs().find_run_kind(id);
  if (!kind) throw Error(ErrorKind::kNotFound, "run " + id + " not found");
  return *db.runs().load_run(*kind, id);
}

template <typename Print>
void add_view(CLI::App& cli, App& app, const std::string& name, const std::string& help,
              Print print) {
  auto view = std::make_shared<RunView>();
  CLI::App* cmd = cli.add_subcommand(name, help);
  cmd->add_option("RUN", view->run_id, "RUN: a run id, a unique prefix (4+ hex) or a run name")
      ->required();
  cmd->add_flag("--json", view->json, "print JSON");
  cmd->callback([&app, view, print] {
    const std::unique_ptr<Database> db = app.open_db(OpenMode::kRead);
    const std::string id = resolve_reference(*db, Referent::kRun, view->run_id);
    Run run = load_run_or_throw(*db, id);
    print(*db, run, view->json);
  });
}

}  // namespace

void add_inspect_commands(CLI::App& cli, App& app) {
  add_view(cli, app, "show", "a run's fields and current state",
           [](Database& db, const Run& run, bool json) {
             const StatePtr state = db.runs().load_current_state(run);
             if (json)
               print_json(run_to_json(run, state));
             else
               print_run_text(std::cout, run, state);
           });
  add_view(
      cli, app, "history", "a run's states, oldest first",
      [](Database& db, const Run& run, bool json) {
        const auto states = db.runs().load_history(run);
        if (json) {
          Json list = Json::array();
          for (const auto& s : states) list.push_back(state_to_json(*s));
          print_json(Json{{"run_id", run.id}, {"run_kind", kind_name(run.kind)}, {"states", list}});
        } else {
          print_history_text(std::cout, states);
        }
      });
  add_view(cli, app, "log", "a run's orchestration attempts, oldest first",
           [](Database& db, const Run& run, bool json) {
             const auto entries = db.runs().load_log(run.id);
             if (json) {
               Json list = Json::array();
               for (const auto& e : entries) list.push_back(log_entry_to_json(e));
               print_json(
                   Json{{"run_id", run.id}, {"run_kind", kind_name(run.kind)}, {"entries", list}});
             } else {
               print_log_text(std::cout, entries, db.runs().load_history(run));
             }
           });
}

}  // namespace runctl::cli
