// Reliability property 7: no SQL injection. SQL metacharacters go in through every string input
// runctl stores (names, messages, tags, keys, details, data, policy texts, file names, the
// database path) and come back verbatim, read with bound parameters behind runctl's back; and
// every table is still there. Every statement runctl runs binds its values (lib/store), so this
// holds by construction; the test keeps it so.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "cli_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

using reliability::Sql;

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
  // The database path itself: quotes and separators in a file name.
  const std::string path = db.dir() + "/we'ird\"; DROP TABLE x; --.db";
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{RUNCTL_BIN, "--db", path};
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
  Sql sql(path, SQLITE_OPEN_READONLY);
  for (const char* table : {"flow_run", "task_run", "flow_run_state", "task_run_state",
                            "orchestration_log", "artifact", "task_run_state_cache"})
    CHECK(sql.count("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    {table}) == 1);
  CHECK(sql.count("SELECT count(*) FROM flow_run") == 1);
  CHECK(sql.count("SELECT count(*) FROM task_run") == 1);
  CHECK(sql.value("SELECT name FROM flow_run WHERE id = ?1", {flow}) == P);
  CHECK(sql.value("SELECT infrastructure_pid FROM flow_run WHERE id = ?1", {flow}) == P);
  CHECK(Json::parse(sql.value("SELECT tags FROM flow_run WHERE id = ?1", {flow})) ==
        Json::array({P, "second"}));
  CHECK(Json::parse(sql.value("SELECT empirical_policy FROM flow_run WHERE id = ?1",
                              {flow}))["pause_keys"] == Json::array({P}));
  CHECK(sql.value("SELECT name FROM task_run WHERE id = ?1", {task}) == P);
  CHECK(sql.value("SELECT task_key FROM task_run WHERE id = ?1", {task}) == P);

  // The flow run's creation state carries the payload in its name, message, details and data.
  const auto first = sql.query(
      "SELECT s.name, s.message, s.state_details, a.data FROM flow_run_state AS s LEFT JOIN "
      "artifact AS a ON a.id = s.result_artifact_id WHERE s.flow_run_id = ?1 ORDER BY s.timestamp",
      {flow});
  REQUIRE(first.size() >= 1);
  CHECK(first[0][0] == P);
  CHECK(first[0][1] == P);
  const Json stored_details = Json::parse(*first[0][2]);
  CHECK(stored_details["cache_key"] == P);
  CHECK(stored_details["traceparent"] == P);
  CHECK(stored_details["pause_key"] == P);
  REQUIRE(first[0][3]);
  CHECK(Json::parse(*first[0][3]) == Json::parse(data));

  // The task run's states: name and message from set-state, the cache key.
  CHECK(sql.count("SELECT count(*) FROM task_run_state WHERE task_run_id = ?1 AND name = ?2 AND "
                  "message = ?2",
                  {task, P}) == 1);
  CHECK(sql.count("SELECT count(*) FROM task_run_state WHERE task_run_id = ?1 AND message = ?2 "
                  "AND json_extract(state_details, '$.cache_key') = ?2",
                  {task, P}) == 1);

  // The policy file's texts: the rejection state (renamed by the transform) and the reason; the
  // policy's file name in the log.
  const auto last = sql.query(
      "SELECT l.policy, json_extract(l.details, '$.reason'), s.name, s.message, s.type FROM "
      "orchestration_log AS l LEFT JOIN flow_run_state AS s ON s.id = l.validated_state_id "
      "WHERE l.run_id = ?1 ORDER BY l.id DESC LIMIT 1",
      {flow});
  REQUIRE(last.size() == 1);
  CHECK(last[0][0] == policy_path);
  CHECK(last[0][1] == P);
  CHECK(last[0][3] == P);
  CHECK(last[0][4] == std::optional<std::string>("FAILED"));
  CHECK((last[0][2] == P));

  // runctl reads it all back too.
  const ProcessResult show = run({"show", flow, "--json"});
  CHECK(Json::parse(show.out)["name"] == P);
  CHECK(reliability::integrity(path) == "ok");
}

}  // namespace
}  // namespace runctl::clitest
