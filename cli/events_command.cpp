// events [--run ID] [--follow]: the prefect.flow-run.* events InstrumentFlowRunStateTransitions
// wrote, oldest first. --follow keeps polling the log's event rows (every 200 ms, one bounded query
// a poll) for new ones until --count events were printed or --timeout seconds passed; without
// either it runs until interrupted. --since and --limit bound what is printed first: --limit N
// starts the listing at the N most recent events (one read from the end of the log), and without
// --follow stops after them.
#include <chrono>
#include <iostream>
#include <thread>

#include "cli/bounded_output.hpp"
#include "cli/invocation.hpp"
#include "engine/concurrency_json.hpp"
#include "store/database.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(200);
// Rows read per poll, so a large backlog streams out in pieces instead of one huge read.
constexpr std::int64_t kBatch = 500;

void print_event_text(const Event& e) {
  const Json resource = Json::parse(e.resource);
  std::cout << format_timestamp(e.occurred) << "  " << printable(e.event) << "  "
            << printable(e.resource_id) << "  "
            << printable(resource.value("prefect.state-type", std::string())) << " '"
            << printable(resource.value("prefect.state-name", std::string())) << "'";
  if (e.follows) std::cout << "  follows " << *e.follows;
  std::cout << '\n';
}

}  // namespace

void add_events_command(CLI::App& cli, Invocation& invocation) {
  struct Flags {
    std::optional<std::string> run;
    bool json = false;
    bool follow = false;
    std::optional<double> timeout;
    std::optional<std::int64_t> count;
    WindowFlags window;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = cli.add_subcommand(
      "events", "flow-run state events (prefect.flow-run.<state name>), oldest first");
  cmd->add_option(
      "--run", f->run,
      "RUN: only the events of this flow run (its id, a unique prefix (4+ hex) or its name)");
  cmd->add_flag("--json", f->json,
                "print JSON: an object with the array \"events\", or with --follow one object per "
                "line (JSON Lines)");
  cmd->add_flag("--follow", f->follow, "keep printing new events as they are written");
  cmd->add_option("--timeout", f->timeout, "with --follow: stop after this many seconds")
      ->check(kNonNegative);
  cmd->add_option("--count", f->count, "stop after printing this many events")
      ->check(CLI::PositiveNumber);
  add_window_flags(cmd, f->window, "events");

  cmd->callback([&invocation, f] {
    const Window window = read_window(invocation, f->window);
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    std::optional<std::string> resource;
    if (f->run) {
      // Only flow runs have events: a prefix or a name is looked up among them.
      const std::string id = resolve_reference(*db, Referent::kFlowRun, *f->run);
      if (!db->runs().find_run_kind(id))
        throw Error(ErrorKind::kNotFound, "run " + id + " not found");
      resource = "prefect.flow-run." + id;
    }
    const auto deadline = f->timeout
                              ? std::chrono::steady_clock::now() +
                                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                        std::chrono::duration<double>(*f->timeout))
                              : std::chrono::steady_clock::time_point::max();

    ConcurrencyRepository& events = db->concurrency();
    const std::optional<Timestamp> since = window.read.since;
    // --limit: start after the newest event left out. Without --follow the listing ends with the
    // N events it counted (events committed since do not push them out).
    std::int64_t after =
        window.limit ? events.newest_events_cursor(resource, *window.limit, since) : 0;
    const bool truncated = after != 0;
    std::optional<std::int64_t> stop_after = f->count;
    if (window.limit && !f->follow)
      stop_after = std::min(stop_after.value_or(*window.limit), *window.limit);
    if (truncated && f->follow && !f->json) note_truncated(*window.limit, "events");
    std::int64_t printed = 0;
    Json all = Json::array();  // without --follow, printed at the end in one object
    for (;;) {
      std::optional<std::int64_t> want = kBatch;
      if (stop_after) want = std::min(kBatch, *stop_after - printed);
      const std::vector<Event> batch = events.list_events(resource, after, want, since);
      const bool more = static_cast<std::int64_t>(batch.size()) == *want;
      for (const Event& e : batch) {
        after = e.seq;
        ++printed;
        if (f->json && f->follow)
          std::cout << event_to_json(e).dump(-1, ' ', false, Json::error_handler_t::replace)
                    << '\n';
        else if (f->json)
          all.push_back(event_to_json(e));
        else
          print_event_text(e);
      }
      std::cout.flush();
      if (!std::cout) break;  // stdout is gone (main() reports it): nothing more to follow for
      if (stop_after && printed >= *stop_after) break;
      if (more) continue;  // a full batch: read on before waiting
      if (!f->follow || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          kPollInterval, deadline - std::chrono::steady_clock::now()));
    }
    if (f->json && !f->follow) {
      Json out{{"events", std::move(all)}};
      if (window.limit) {  // as history and log say it
        out["truncated"] = truncated;
        out["limit"] = *window.limit;
      }
      print_json(out);
    }
    if (truncated && !f->follow && !f->json) note_truncated(*window.limit, "events");
  });
}

}  // namespace runctl::cli
