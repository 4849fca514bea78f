// task-queue list: the background task queue that EnqueueScheduledTasks fills.
#include <iomanip>
#include <iostream>

#include "cli/invocation.hpp"
#include "util/text.hpp"

namespace runctl::cli {

void add_task_queue_commands(CLI::App& cli, Invocation& invocation) {
  CLI::App* group =
      cli.add_subcommand("task-queue", "the background task queue (Prefect keeps it in memory)");
  group->require_subcommand(1);
  struct Flags {
    std::optional<std::string> task_key;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* list = group->add_subcommand("list", "queued task runs, oldest first");
  list->add_option("--task-key", flags->task_key, "only this task key");
  list->add_flag("--json", flags->json, "print JSON");
  list->callback([&invocation, flags] {
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    const auto queued = db->runs().list_task_queue(flags->task_key);
    if (flags->json) {
      Json out = Json::array();
      for (const auto& q : queued)
        out.push_back(Json{{"id", q.id},
                           {"task_key", q.task_key},
                           {"queue", q.queue},
                           {"task_run_id", q.task_run_id},
                           {"enqueued_at", format_timestamp(q.enqueued_at)}});
      print_json(Json{{"tasks", out}});
      return;
    }
    for (const auto& q : queued)
      std::cout << format_timestamp(q.enqueued_at) << "  " << std::left << std::setw(10)
                << printable(q.queue) << std::setw(24) << printable(q.task_key) << q.task_run_id
                << '\n';
  });
}

}  // namespace runctl::cli
