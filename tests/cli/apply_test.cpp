// runctl apply: JSON Lines in, one set-state --json result per line out (docs/apply.md).
#include <doctest/doctest.h>

#include <fstream>

#include "cli_fixture.hpp"

namespace runctl::clitest {
namespace {

const std::string kNow = "2026-01-01T12:00:00+00:00";
const std::string kLater = "2026-01-01T12:00:10+00:00";
const std::string kMissingRun = "00000000-0000-4000-8000-000000000000";

std::string create_at(const CliDb& db, const std::string& kind, std::vector<std::string> extra) {
  std::vector<std::string> args{"--now", kNow, kind + "-run", "create"};
  args.insert(args.end(), extra.begin(), extra.end());
  return db.json(args, 0).value("id", std::string());
}

std::string lines(const std::vector<Json>& requests) {
  std::string out;
  for (const Json& r : requests) out += r.dump() + "\n";
  return out;
}

// The run's orchestration log (runctl log), oldest first.
Json log_of(const CliDb& db, const std::string& id) {
  return db.json({"log", id}, 0)["entries"];
}

struct ApplyRun {
  int exit_code = -1;
  std::vector<Json> results;
  std::string out, err;
};

// runctl --now kLater apply ARGS --json, fed `input` on stdin; each stdout line parsed.
ApplyRun run_apply(const CliDb& db, const std::string& input, std::vector<std::string> args = {}) {
  std::vector<std::string> argv{"--now", kLater, "apply"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  const ProcessResult r = db.run(argv, input);
  ApplyRun out{r.exit_code, {}, r.out, r.err};
  std::size_t start = 0;
  while (start < r.out.size()) {
    const std::size_t end = r.out.find('\n', start);
    const std::string line = r.out.substr(start, end - start);
    try {
      out.results.push_back(Json::parse(line));
    } catch (const std::exception& e) {
      FAIL("not a JSON line: " << line << " (" << e.what() << ")");
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// Ids differ between twin runs and between the states minted for them; everything else must not.
Json normalised(const Json& j, const std::string& run_id) {
  if (j.is_string()) return j.get<std::string>() == run_id ? Json("<run>") : j;
  if (j.is_array()) {
    Json out = Json::array();
    for (const Json& item : j) out.push_back(normalised(item, run_id));
    return out;
  }
  if (!j.is_object()) return j;
  Json out = Json::object();
  for (const auto& [key, value] : j.items()) {
    if (key == "line" || key == "_exit_code") continue;
    out[key] = key == "id" && value.is_string() ? Json("<id>") : normalised(value, run_id);
  }
  return out;
}

// set-state's flags for an apply request.
std::vector<std::string> set_state_args(const std::string& id, const Json& request) {
  const Json& state = request["state"];
  std::vector<std::string> args{"--now", kLater, "set-state", id, state["type"].get<std::string>()};
  if (state.contains("name")) args.insert(args.end(), {"--name", state["name"].get<std::string>()});
  if (state.contains("message"))
    args.insert(args.end(), {"--message", state["message"].get<std::string>()});
  if (state.contains("state_details"))
    args.insert(args.end(), {"--details", state["state_details"].dump()});
  if (state.contains("data")) args.insert(args.end(), {"--data", state["data"].dump()});
  if (request.value("force", false)) args.push_back("--force");
  if (request.contains("params"))
    for (const auto& [key, value] : request["params"].items())
      args.insert(args.end(), {"--param", key + "=" + value.dump()});
  return args;
}

struct Case {
  std::string kind;
  std::vector<std::string> create;  // flow-run/task-run create flags
  Json request;                     // without run_id
};

TEST_CASE("apply: every line's result is set-state --json's for the same transition") {
  CliDb db;
  const std::string policy = db.policy(Json::parse(R"({
    "rules": [
      {"name": "NoCompletionBeforeRunning", "from": ["SCHEDULED", "PENDING"], "to": ["COMPLETED"],
       "before": [{"reject": {"state": null, "reason": "a run must be RUNNING first"}}]},
      {"name": "Nightly", "from": ["PENDING"], "to": ["RUNNING"],
       "before": [{"delay": {"seconds": 3600, "reason": "outside the window"}}]},
      {"name": "NoCancel", "from": ["RUNNING"], "to": ["CANCELLING", "CANCELLED"],
       "before": [{"abort": {"reason": "cannot cancel"}}]},
      {"name": "Tag", "from": "*", "to": ["FAILED"],
       "before": [{"set_parameter": {"key": "tagged", "value": [1, "two"]}}],
       "after": [{"record": "failed"}]}
    ]})"));
  const std::vector<Case> core = {
      {"flow", {"--state", "PENDING"}, {{"state", {{"type", "RUNNING"}}}}},
      {"flow", {"--state", "RUNNING"}, {{"state", {{"type", "COMPLETED"}, {"message", "done"}}}}},
      {"flow", {}, {{"state", {{"type", "scheduled"}, {"name", "Late"}}}}},
      {"flow",
       {"--state", "RUNNING"},
       {{"state", {{"type", "FAILED"}, {"data", {{"type", "unpersisted"}}}}}}},
      {"flow", {"--state", "COMPLETED"}, {{"state", {{"type", "RUNNING"}}}, {"force", true}}},
      {"flow", {"--state", "PENDING"}, {{"state", {{"type", "PENDING"}}}}},
      {"flow",
       {"--state", "PENDING"},
       {{"state", {{"type", "RUNNING"}}}, {"params", {{"api-version", "0.8.4"}}}}},
      {"task", {"--state", "PENDING"}, {{"state", {{"type", "RUNNING"}}}}},
      {"task",
       {"--state", "RUNNING"},
       {{"state",
         {{"type", "COMPLETED"},
          {"state_details", {{"cache_key", "k\u00e9y \"quoted\"\n"}}},
          {"message", "caf\u00e9"}}}}},
      {"task", {"--state", "SCHEDULED"}, {{"state", {{"type", "CANCELLED"}}}}},
  };
  const std::vector<Case> custom = {
      {"flow", {"--state", "PENDING"}, {{"state", {{"type", "COMPLETED"}}}}},  // REJECT
      {"flow", {"--state", "PENDING"}, {{"state", {{"type", "RUNNING"}}}}},    // WAIT
      {"flow", {"--state", "RUNNING"}, {{"state", {{"type", "CANCELLED"}}}}},  // ABORT
      {"task", {"--state", "RUNNING"}, {{"state", {{"type", "FAILED"}}}}},     // parameters
  };
  for (const bool with_policy : {false, true}) {
    CAPTURE(with_policy);
    const std::vector<Case>& cases = with_policy ? custom : core;
    std::vector<Json> requests;
    std::vector<std::string> twins;
    for (const Case& c : cases) {
      const std::string applied = create_at(db, c.kind, c.create);
      twins.push_back(create_at(db, c.kind, c.create));
      Json request = Json{{"run_id", applied}};
      for (const auto& [key, value] : c.request.items()) request[key] = value;
      requests.push_back(request);
    }
    std::vector<std::string> extra;
    if (with_policy) extra = {"--policy", policy};
    const ApplyRun run = run_apply(db, lines(requests), extra);
    INFO("stderr: " << run.err);
    REQUIRE(run.results.size() == cases.size());
    int worst = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(i);
      const Json& got = run.results[i];
      CHECK(got["line"] == i + 1);
      std::vector<std::string> args = set_state_args(twins[i], requests[i]);
      args.insert(args.end(), extra.begin(), extra.end());
      const Json expected = db.json(args);
      worst = std::max(worst, expected["_exit_code"].get<int>());
      CHECK(normalised(got, requests[i]["run_id"]).dump() == normalised(expected, twins[i]).dump());
      CHECK(normalised(db.show(requests[i]["run_id"])["state"], requests[i]["run_id"]) ==
            normalised(db.show(twins[i])["state"], twins[i]));
    }
    CHECK(run.exit_code == worst);
  }
}

TEST_CASE("apply: malformed lines and unknown runs get an error result each, nothing written") {
  CliDb db;
  const std::string id = create_at(db, "flow", {"--state", "PENDING"});
  const std::string input =
      "{\"run_id\": \"" + id +
      "\", \"state\": {\"type\": \"RUNNING\"}}\n"                           // 1
      "\n"                                                                  // 2: skipped
      "not json at all\n"                                                   // 3
      "[1, 2]\n"                                                            // 4
      "{\"run_id\": \"not-a-uuid\", \"state\": {\"type\": \"RUNNING\"}}\n"  // 5
      "{\"run_id\": \"" +
      kMissingRun +
      "\", \"state\": {\"type\": \"RUNNING\"}}\n"  // 6
      "{\"run_id\": \"" +
      id +
      "\", \"state\": {\"type\": \"BOGUS\"}}\n"  // 7
      "{\"run_id\": \"" +
      id +
      "\", \"state\": {\"type\": \"RUNNING\"}, \"froce\": true}\n"  // 8
      "{\"run_id\": \"" +
      id +
      "\", \"state\": {\"type\": \"RUNNING\", "
      "\"state_details\": {\"flow_run_id\": \"nope\"}}}\n"  // 9
      "{\"run_id\": \"" +
      id +
      "\"}\n"  // 10
      "{\"run_id\": \"" +
      id + "\", \"state\": {\"type\": \"COMPLETED\"}}";  // 11, no newline
  const ApplyRun run = run_apply(db, input);
  INFO("stderr: " << run.err << "\nstdout: " << run.out);
  REQUIRE(run.results.size() == 10);
  auto at = [&](std::size_t line) -> const Json& {
    for (const Json& r : run.results)
      if (r["line"] == line) return r;
    FAIL("no result for line " << line);
    return run.results[0];
  };
  CHECK(at(1)["status"] == "ACCEPT");
  for (std::size_t line : {3, 4, 5, 7, 8, 9, 10}) {
    CAPTURE(line);
    CHECK(at(line)["exit_code"] == 65);
    CHECK(at(line)["error"].is_string());
    CHECK_FALSE(at(line).contains("status"));
  }
  CHECK(at(3)["run_id"].is_null());
  CHECK(at(7)["run_id"] == id);
  CHECK(at(7)["error"].get<std::string>().find("unknown state type") != std::string::npos);
  CHECK(at(8)["error"].get<std::string>().find("froce") != std::string::npos);
  CHECK(at(9)["error"].get<std::string>().find("flow_run_id") != std::string::npos);
  CHECK(at(6)["exit_code"] == 66);
  CHECK(at(6)["run_id"] == kMissingRun);
  CHECK(at(11)["status"] == "ACCEPT");
  CHECK(run.exit_code == 66);  // the worst: 66 beats 65 and 0
  CHECK(db.show(id)["state"]["type"] == "COMPLETED");
  // Only the two transitions were attempted: the other lines never reached the database.
  CHECK(log_of(db, id).size() == 3);
}

TEST_CASE("apply --commit-every: a failing transition rolls back alone and is still logged") {
  CliDb db;
  const std::string policy = db.policy(Json::parse(R"({
    "rules": [{"name": "Boom", "from": "*", "to": ["COMPLETED"], "after": [{"fail": "boom"}]}]})"));
  for (const std::string every : {"1", "2", "10"}) {
    CAPTURE(every);
    // Fresh runs each time: --now is fixed, and a task run's state timestamps must be unique.
    const std::string a = create_at(db, "flow", {"--state", "PENDING"});
    const std::string b = create_at(db, "flow", {"--state", "RUNNING"});
    const std::string c = create_at(db, "task", {"--state", "PENDING"});
    const std::string d = create_at(db, "task", {"--state", "PENDING"});
    const std::string before_b = db.show(b)["state"]["id"];
    const std::string input = lines({
        {{"run_id", a}, {"state", {{"type", "RUNNING"}}}},
        {{"run_id", b}, {"state", {{"type", "COMPLETED"}}}},  // the hook raises
        {{"run_id", kMissingRun}, {"state", {{"type", "RUNNING"}}}},
        {{"run_id", c}, {"state", {{"type", "RUNNING"}}}},
        {{"run_id", a}, {"state", {{"type", "PENDING"}}}, {"force", true}},
        {{"run_id", d}, {"state", {{"type", "COMPLETED"}}}, {"force", true}},
    });
    const ApplyRun run = run_apply(db, input, {"--policy", policy, "--commit-every", every});
    INFO("stderr: " << run.err);
    REQUIRE(run.results.size() == 6);
    for (std::size_t i = 0; i < 6; ++i) CHECK(run.results[i]["line"] == i + 1);
    CHECK(run.results[0]["status"] == "ACCEPT");
    CHECK(run.results[1]["error"] == "boom");
    CHECK(run.results[1]["validated_state"].is_null());
    CHECK(run.results[2]["exit_code"] == 66);
    CHECK(run.results[3]["status"] == "ACCEPT");
    CHECK(run.results[4]["policy"] == "MinimalFlowPolicy");
    CHECK(run.results[5]["policy"] == "MinimalTaskPolicy");
    CHECK(run.exit_code == 70);  // a hook error is the worst outcome here
    // b's transition left nothing but its log row; the others were committed.
    CHECK(db.show(b)["state"]["id"] == before_b);
    CHECK(db.show(a)["state"]["type"] == "PENDING");
    CHECK(db.show(c)["state"]["type"] == "RUNNING");
    CHECK(db.show(d)["state"]["type"] == "COMPLETED");
    const Json log = log_of(db, b);
    REQUIRE_FALSE(log.empty());
    CHECK(log.back()["error"] == "boom");
    for (const Json& entry : log)
      CHECK((entry["validated_state_id"].is_null() || entry["error"].is_null()));
  }
}

TEST_CASE("apply: the exit code is the worst line's") {
  CliDb db;
  const std::string policy = db.policy(Json::parse(R"({
    "rules": [{"name": "No", "from": "*", "to": ["CANCELLED"],
               "before": [{"reject": {"state": null, "reason": "no"}}]},
              {"name": "Later", "from": "*", "to": ["CRASHED"],
               "before": [{"delay": {"seconds": 5, "reason": "later"}}]}]})"));
  auto run_with = [&](const std::vector<std::string>& types) {
    std::vector<Json> requests;
    for (const std::string& t : types)
      requests.push_back(
          {{"run_id", create_at(db, "flow", {"--state", "RUNNING"})}, {"state", {{"type", t}}}});
    return run_apply(db, lines(requests), {"--policy", policy}).exit_code;
  };
  CHECK(run_with({"COMPLETED", "COMPLETED"}) == 0);
  CHECK(run_with({"COMPLETED", "CANCELLED", "COMPLETED"}) == 1);
  CHECK(run_with({"CANCELLED", "CRASHED"}) == 2);
  CHECK(run_apply(db, "").exit_code == 0);  // no lines
  CHECK(run_apply(db, "\n\n").exit_code == 0);
  CHECK(run_apply(db, "{}\n").exit_code == 65);
}

TEST_CASE("apply: input from a file, from - and from stdin by default, text output") {
  CliDb db;
  const std::string a = create_at(db, "flow", {"--state", "PENDING"});
  const std::string b = create_at(db, "flow", {"--state", "PENDING"});
  const std::string c = create_at(db, "flow", {"--state", "PENDING"});
  const std::string file = db.dir() + "/in.jsonl";
  std::ofstream(file) << lines({{{"run_id", a}, {"state", {{"type", "RUNNING"}}}}});

  ProcessResult r = db.run({"apply", file, "--json"});
  CHECK(r.exit_code == 0);
  CHECK(Json::parse(r.out)["line"] == 1);
  CHECK(db.show(a)["state"]["type"] == "RUNNING");

  r = db.run({"apply", "-", "--json"}, lines({{{"run_id", b}, {"state", {{"type", "RUNNING"}}}}}));
  CHECK(r.exit_code == 0);
  CHECK(db.show(b)["state"]["type"] == "RUNNING");

  r = db.run({"apply"}, lines({{{"run_id", c}, {"state", {{"type", "RUNNING"}}}},
                               {{"run_id", kMissingRun}, {"state", {{"type", "RUNNING"}}}}}));
  CHECK(r.exit_code == 66);
  CHECK(r.out.find("line 1: ACCEPT  " + c + "  PENDING 'Pending' -> RUNNING 'Running'\n") == 0);
  CHECK(r.out.find("line 2: error (exit 66): run " + kMissingRun + " not found") !=
        std::string::npos);
  CHECK(db.show(c)["state"]["type"] == "RUNNING");

  r = db.run({"apply", db.dir() + "/missing.jsonl"});
  CHECK(r.exit_code == 66);
  CHECK(r.err.find("missing.jsonl") != std::string::npos);
}

TEST_CASE("apply: a bad --policy or --commit-every fails before anything is read or written") {
  CliDb db;
  const std::string a = create_at(db, "flow", {"--state", "PENDING"});
  const std::string input = lines({{{"run_id", a}, {"state", {{"type", "RUNNING"}}}}});
  const std::string bad = db.policy(Json{{"rules", Json{"NoSuchRule"}}}, "bad.json");
  CHECK(db.run({"apply", "--policy", bad}, input).exit_code == 78);
  CHECK(db.run({"apply", "--policy", db.dir() + "/none.json"}, input).exit_code == 66);
  CHECK(db.run({"apply", "--commit-every", "0"}, input).exit_code == 64);
  CHECK(db.show(a)["state"]["type"] == "PENDING");
}

TEST_CASE("apply: many lines with --commit-every, committed in groups") {
  CliDb db;
  std::vector<std::string> ids;
  const Json created =
      db.json({"--now", kNow, "flow-run", "create", "--count", "250", "--state", "PENDING"}, 0);
  for (const Json& id : created["ids"]) ids.push_back(id.get<std::string>());
  std::vector<Json> requests;
  for (const std::string& id : ids)
    requests.push_back({{"run_id", id}, {"state", {{"type", "RUNNING"}}}});
  for (const std::string& id : ids)
    requests.push_back({{"run_id", id}, {"state", {{"type", "COMPLETED"}}}});
  const ApplyRun run = run_apply(db, lines(requests), {"--commit-every", "64"});
  CHECK(run.exit_code == 0);
  REQUIRE(run.results.size() == 500);
  for (std::size_t i = 0; i < 500; ++i) {
    CHECK(run.results[i]["line"] == i + 1);
    CHECK(run.results[i]["status"] == "ACCEPT");
  }
  const auto store = db.open(OpenMode::kRead);
  int completed = 0;
  for (const std::string& id : ids)
    completed += store->runs().find_run(id).value().state_type == StateType::kCompleted;
  CHECK(completed == 250);
}

}  // namespace
}  // namespace runctl::clitest
