// Reliability property 7: no SQL injection. SQL metacharacters go in through every string input
// runctl stores (names, messages, tags, keys, details, data, policy texts, file names, the
// SQLite database path) and come back verbatim, read through the repository API in a process of
// the test's own; and every table is still there. Every statement runctl runs binds its values
// (lib/store), so this holds by construction; the test keeps it so.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "cli_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

// Quotes of every kind, statement separators, comments, LIKE wildcards, parameter markers,
// backslashes, a NUL-free control character and non-ASCII text. No comma: --tags splits on it.
const std::string kPayload =
    "x'); DROP TABLE flow_run; -- \" ; DELETE FROM orchestration_log; /* */ `t` [c] %_ ?1 :n @p "
    "$p \\ ' OR '1'='1 \t ☃ é";

// The same for a file name (no '/').
const std::string kFileName = "p'); DROP TABLE flow_run; --\" %_ ?1.json";

std::string json_string(const std::string& s) {
  return Json(s).dump();
}

TEST_CASE("reliability: SQL metacharacters in every string input are stored verbatim") {
  CliDb db;
  // The database path itself: quotes and separators in a file name. (A PostgreSQL URL is parsed
  // by libpq, never put into SQL.)
  const std::string path =
      db.is_postgres() ? db.path() : db.dir() + "/we'ird\"; DROP TABLE x; --.db";
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{runctl_binary(), "--db", path};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = run_process(argv);
    INFO("runctl " << CliDb::join(args) << "\nstderr: " << r.err);
    CHECK(r.exit_code <= 3);
    return r;
  };
  const std::string P = kPayload;
  const std::string details = "{\"cache_key\": " + json_string(P) +
                              ", \"traceparent\": " + json_string(P) +
                              ", \"pause_key\": " + json_string(P) + "}";
  const std::string data = "{\"k\": " + json_string(P) + ", " + json_string(P) + ": [1]}";

  run({"init"});
  const std::string flow = Json::parse(run({"flow-run",
                                            "create",
                                            "--json",
                                            "--name",
                                            P,
                                            "--tags",
                                            P + ",second",
                                            "--infrastructure-pid",
                                            P,
                                            "--pause-keys",
                                            P,
                                            "--state",
                                            "PENDING",
                                            "--state-name",
                                            P,
                                            "--state-message",
                                            P,
                                            "--details",
                                            details,
                                            "--data",
                                            data})
                                           .out)["id"]
                               .get<std::string>();
  const std::string task =
      Json::parse(run({"task-run", "create", "--json", "--name", P, "--task-key", P, "--flow-run",
                       flow, "--tags", P, "--state", "PENDING"})
                      .out)["id"]
          .get<std::string>();
  // set-state: the state's name and message, the sugar flags, parameters, a client version.
  std::string key = P;  // --param splits KEY=JSON at the first '='
  key.erase(std::remove(key.begin(), key.end(), '='), key.end());
  run({"set-state", task, "RUNNING", "--name", P, "--message", P, "--param",
       key + "=" + json_string(P), "--data", data, "--force"});
  run({"set-state", task, "COMPLETED", "--cache-key", P, "--message", P, "--data", data,
       "--force"});
  // A policy file whose name and texts carry the payload: rule name, rename, rejection state
  // name and message, reason, parameter key and value.
  const std::string policy_path = db.dir() + "/" + kFileName;
  {
    Json rule{
        {"name", P},
        {"from", "*"},
        {"to", "*"},
        {"before",
         Json::array(
             {Json{{"set_parameter", Json{{"key", P}, {"value", P}}}},
              Json{{"reject", Json{{"state", Json{{"type", "FAILED"}, {"name", P}, {"message", P}}},
                                   {"reason", P}}}}})}};
    Json rename{{"name", P + " renamer"}, {"before", Json::array({Json{{"rename", P}}})}};
    reliability::write_file(
        policy_path,
        Json{{"rules", Json::array({rule})}, {"transforms", Json::array({rename})}}.dump());
  }
  run({"set-state", flow, "RUNNING", "--policy", policy_path});

  // Everything is still there, and each value reads back exactly as given.
  const auto store = open_database(path, OpenMode::kRead);
  RunRepository& runs = store->runs();
  CHECK(runs.count_runs(RunKind::kFlow) == 1);
  CHECK(runs.count_runs(RunKind::kTask) == 1);
  const Run flow_run = runs.load_run(RunKind::kFlow, flow).value();
  CHECK(flow_run.name == P);
  CHECK(flow_run.infrastructure_pid == P);
  CHECK(flow_run.tags == std::vector<std::string>{P, "second"});
  CHECK(flow_run.empirical_policy["pause_keys"] == Json::array({P}));
  const Run task_run = runs.load_run(RunKind::kTask, task).value();
  CHECK(task_run.name == P);
  CHECK(task_run.task_key == P);

  // The flow run's creation state carries the payload in its name, message, details and data.
  const std::vector<StatePtr> flow_states = runs.load_history(flow_run);
  REQUIRE(flow_states.size() >= 1);
  const State& first = *flow_states[0];
  CHECK(first.name == P);
  CHECK(first.message == P);
  CHECK(first.details->cache_key == P);
  CHECK(first.details->traceparent == P);
  CHECK(first.details->pause_key == P);
  REQUIRE(first.data);
  CHECK(*first.data == Json::parse(data));

  // The task run's states: name and message from set-state, the cache key.
  const std::vector<StatePtr> task_states = runs.load_history(task_run);
  CHECK(std::count_if(task_states.begin(), task_states.end(),
                      [&](const StatePtr& s) { return s->name == P && s->message == P; }) == 1);
  CHECK(std::count_if(task_states.begin(), task_states.end(), [&](const StatePtr& s) {
          return s->message == P && s->details->cache_key == P;
        }) == 1);

  // The policy file's texts: the rejection state (renamed by the transform) and the reason; the
  // policy's file name in the log.
  const std::vector<LogEntry> log = runs.load_log(flow);
  REQUIRE(!log.empty());
  const LogEntry& last = log.back();
  CHECK(last.policy == policy_path);
  CHECK(last.details["reason"] == P);
  REQUIRE(last.validated_state_id.has_value());
  const auto rejected =
      std::find_if(flow_states.begin(), flow_states.end(),
                   [&](const StatePtr& s) { return s->id == *last.validated_state_id; });
  REQUIRE(rejected != flow_states.end());
  CHECK((*rejected)->name == P);
  CHECK((*rejected)->message == P);
  CHECK((*rejected)->type == StateType::kFailed);

  // runctl reads it all back too.
  const ProcessResult show = run({"show", flow, "--json"});
  CHECK(Json::parse(show.out)["name"] == P);
  if (!db.is_postgres()) CHECK(reliability::integrity(path) == "ok");
}

}  // namespace
}  // namespace runctl::clitest
