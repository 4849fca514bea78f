// InstrumentFlowRunStateTransitions, after Prefect's
// tests/server/orchestration/test_flow_run_instrumentation_policies.py, and `runctl events`.
#include <future>

#include "cli/concurrency_fixture.hpp"

namespace runctl::clitest {
namespace {

// The events of one run, oldest first.
Json events_of(const ConcDb& c, const std::string& run_id) {
  const Json out = c.cmd({"events", "--run", run_id}, 0);
  REQUIRE(out.at("events").is_array());
  return out.at("events");
}

Json last_event(const ConcDb& c, const std::string& run_id) {
  const Json all = events_of(c, run_id);
  REQUIRE(!all.empty());
  return all.back();
}

// The transform alone and no global transforms, as Prefect's instrumentation tests run it.
std::string instrument_only(ConcDb& c, Json extra_rules = Json::array()) {
  Json rules = Json::array({"InstrumentFlowRunStateTransitions"});
  for (const auto& r : extra_rules) rules.push_back(r);
  return c.policy(rules, Json::array());
}

// A flow row and the run pointing at it (runctl has no command that sets a run's flow).
std::string attach_flow(const ConcDb& c, const std::string& run_id, const std::string& name) {
  const std::string flow_id =
      c.db.open()
          ->concurrency()
          .ensure_flow("44444444-4444-4444-8444-444444444444", name, timestamp("2026-01-01"))
          .id;
  c.db.update_run(run_id, [&](Run& run) { run.flow_id = flow_id; });
  return flow_id;
}

TEST_CASE(
    "InstrumentFlowRunStateTransitions: "
    "an accepted transition emits prefect.flow-run.<name>") {
  ConcDb c;
  const std::string id = c.flow({"--state", "PENDING", "--name", "my-run"});
  const std::string flow_id = attach_flow(c, id, "my-flow");
  c.now = at(0, 1);
  const Json r = c.set(id, "RUNNING", {"--policy", instrument_only(c)});
  REQUIRE(status(r) == "ACCEPT");
  const Json e = last_event(c, id);
  CHECK(e["event"] == "prefect.flow-run.Running");
  CHECK(e["id"] == validated(r)["id"]);
  CHECK(e["occurred"] == "2026-01-01T12:00:01.000000+00:00");
  CHECK(e["resource"] == Json{{"prefect.resource.id", "prefect.flow-run." + id},
                              {"prefect.resource.name", "my-run"},
                              {"prefect.run-count", "0"},
                              {"prefect.state-message", ""},
                              {"prefect.state-name", "Running"},
                              {"prefect.state-timestamp", "2026-01-01T12:00:01+00:00"},
                              {"prefect.state-type", "RUNNING"}});
  CHECK(e["related"] == Json::array({{{"prefect.resource.id", "prefect.flow." + flow_id},
                                      {"prefect.resource.role", "flow"},
                                      {"prefect.resource.name", "my-flow"}}}));
}

TEST_CASE(
    "InstrumentFlowRunStateTransitions: "
    "a state timestamp with microseconds keeps its fraction") {
  ConcDb c;
  const std::string id = c.flow({"--state", "PENDING"});
  c.now = "2026-01-01T12:00:01.250000Z";
  c.set(id, "RUNNING", {"--policy", instrument_only(c)});
  CHECK(last_event(c, id)["resource"]["prefect.state-timestamp"] ==
        "2026-01-01T12:00:01.250000+00:00");
}

TEST_CASE(
    "InstrumentFlowRunStateTransitions: "
    "the payload carries the intended transition and both states") {
  ConcDb c;
  const std::string id = c.flow();
  const Json r = c.set(id, "RUNNING",
                       {"--name", "custom", "--message", "foo", "--policy", instrument_only(c)});
  REQUIRE(status(r) == "ACCEPT");
  CHECK(last_event(c, id)["payload"] ==
        Json{{"intended", {{"from", nullptr}, {"to", "RUNNING"}}},
             {"initial_state", nullptr},
             {"validated_state", {{"type", "RUNNING"}, {"name", "custom"}, {"message", "foo"}}}});
}

TEST_CASE(
    "InstrumentFlowRunStateTransitions: "
    "follows names the previous state only when it is recent") {
  struct Case {
    int minutes;
    bool follows;
  };
  for (const Case k : {Case{2, true}, Case{15, false}, Case{5, false}}) {
    CAPTURE(k.minutes);
    ConcDb c;
    const std::string id = c.flow({"--state", "PENDING"});
    const Json initial = c.db.show(id)["state"];
    c.now = at(k.minutes);
    const Json r = c.set(id, "RUNNING", {"--policy", instrument_only(c)});
    const Json e = last_event(c, id);
    CHECK(e["id"] == validated(r)["id"]);
    CHECK(e["follows"] == (k.follows ? initial["id"] : Json()));
  }
  ConcDb c;  // no initial state
  const std::string id = c.flow();
  c.set(id, "PENDING", {"--policy", instrument_only(c)});
  CHECK(last_event(c, id)["follows"].is_null());
}

TEST_CASE(
    "InstrumentFlowRunStateTransitions: "
    "a rejection's replacement is emitted, WAIT, ABORT and tasks are not") {
  ConcDb c;
  const std::string id = c.flow({"--state", "PENDING"});
  const Json fussy = test_rule(
      "FussyRule",
      Json::array({Json{{"reject",
                         {{"state", {{"type", "CANCELLED"}, {"name", "Cancelled Fussily"}}},
                          {"reason", "I am fussy"}}}}}));
  c.now = at(0, 1);
  CHECK(status(c.set(id, "RUNNING", {"--policy", instrument_only(c, Json::array({fussy}))})) ==
        "REJECT");
  const Json e = last_event(c, id);
  CHECK(e["event"] == "prefect.flow-run.Cancelled Fussily");
  CHECK(e["resource"]["prefect.state-type"] == "CANCELLED");
  CHECK(e["payload"]["intended"] == Json{{"from", "PENDING"}, {"to", "CANCELLED"}});

  const long long before = c.events();
  const Json ugly = test_rule("UglyRule", Json::array({Json{{"abort", {{"reason", "ugly"}}}}}));
  const Json slow = test_rule(
      "Procrastinating", Json::array({Json{{"delay", {{"seconds", 10}, {"reason", "later"}}}}}));
  CHECK(status(c.set(id, "RUNNING", {"--policy", instrument_only(c, Json::array({ugly}))})) ==
        "ABORT");
  CHECK(status(c.set(id, "RUNNING", {"--policy", instrument_only(c, Json::array({slow}))})) ==
        "WAIT");
  // A task run cannot take the flow-run rule (its policy file is for flow runs: issue 14, item
  // 15); under its own core policy it emits nothing either.
  const std::string task = c.task({"--state", "PENDING"});
  CHECK(c.raw({"set-state", task, "RUNNING", "--policy", instrument_only(c)}).exit_code == 64);
  CHECK(status(c.set(task, "RUNNING")) == "ACCEPT");
  CHECK(c.events() == before);
}

TEST_CASE("InstrumentFlowRunStateTransitions: a deployed run names its flow, deployment and tags") {
  ConcDb c;
  const std::string d =
      c.deployment({"--name", "my-deployment", "--flow-name", "my-flow", "--tags", "test"});
  const std::string id = c.flow({"--deployment-id", d, "--state", "PENDING"});
  c.now = at(0, 1);
  c.set(id, "RUNNING", {"--policy", instrument_only(c)});
  const std::string flow_id =
      c.db.open(OpenMode::kRead)->concurrency().read_deployment(d).value().flow_id;
  CHECK(last_event(c, id)["related"] ==
        Json::array(
            {{{"prefect.resource.id", "prefect.flow." + flow_id},
              {"prefect.resource.role", "flow"},
              {"prefect.resource.name", "my-flow"}},
             {{"prefect.resource.id", "prefect.deployment." + d},
              {"prefect.resource.role", "deployment"},
              {"prefect.resource.name", "my-deployment"}},
             {{"prefect.resource.id", "prefect.tag.test"}, {"prefect.resource.role", "tag"}}}));
}

TEST_CASE("related tags: the run's, its deployment's and its parent task run's, sorted, once") {
  ConcDb c;
  const std::string d = c.deployment({"--tags", "common,deployment-one"});
  const std::string parent = c.task({"--name", "parent-task", "--tags", "task-one,common"});
  const std::string id = c.flow({"--deployment-id", d, "--parent-task-run", parent, "--tags",
                                 "run-one,common", "--state", "PENDING"});
  const Json related = last_event(c, id)["related"];
  REQUIRE(related.size() == 7);
  CHECK(related[2] == Json{{"prefect.resource.id", "prefect.task-run." + parent},
                           {"prefect.resource.role", "task-run"},
                           {"prefect.resource.name", "parent-task"}});
  std::vector<std::string> tags;
  for (std::size_t i = 3; i < related.size(); ++i)
    tags.push_back(related[i]["prefect.resource.id"].get<std::string>());
  CHECK(tags == std::vector<std::string>{"prefect.tag.common", "prefect.tag.deployment-one",
                                         "prefect.tag.run-one", "prefect.tag.task-one"});
}

TEST_CASE("a PAUSED state's payload says whether it reschedules") {
  ConcDb c;
  const std::string id = c.flow({"--state", "RUNNING"});
  c.now = at(0, 1);
  c.set(id, "PAUSED", {"--pause-reschedule", "false", "--policy", instrument_only(c)});
  const Json e = last_event(c, id);
  CHECK(e["payload"]["validated_state"] ==
        Json{{"type", "PAUSED"}, {"name", "Paused"}, {"pause_reschedule", "false"}});
  CHECK(e["payload"]["initial_state"] == Json{{"type", "RUNNING"}, {"name", "Running"}});
}

TEST_CASE("a long message is truncated as Prefect truncates it, twice") {
  ConcDb c;
  const std::string id = c.flow({"--state", "PENDING"});
  // 130 000 characters: one truncation gives 50 000 + "...30000 additional characters..." +
  // 50 000; the event builder truncates that again.
  const std::string message =
      std::string(50'000, 'a') + std::string(30'000, 'm') + std::string(50'000, 'z');
  c.now = at(0, 1);
  c.set(id, "RUNNING", {"--message", message, "--policy", instrument_only(c)});
  const Json e = last_event(c, id);
  const std::string expected =
      std::string(50'000, 'a') + "...33 additional characters..." + std::string(50'000, 'z');
  CHECK(e["resource"]["prefect.state-message"] == expected);
  CHECK(e["payload"]["validated_state"]["message"] == expected);
}

TEST_CASE("the core flow policy emits one event per written state, with the run count") {
  ConcDb c;
  const std::string id = c.flow({"--state", "SCHEDULED"});
  for (const char* t : {"PENDING", "RUNNING", "COMPLETED"})
    REQUIRE(status(c.set(id, t)) == "ACCEPT");
  const Json all = events_of(c, id);
  REQUIRE(all.size() == 4);  // the creation's Scheduled too (MinimalFlowPolicy instruments)
  CHECK(all[0]["event"] == "prefect.flow-run.Scheduled");
  CHECK(all[1]["event"] == "prefect.flow-run.Pending");
  CHECK(all[2]["event"] == "prefect.flow-run.Running");
  CHECK(all[2]["resource"]["prefect.run-count"] == "1");
  CHECK(all[3]["event"] == "prefect.flow-run.Completed");
  CHECK(all[3]["payload"]["intended"] == Json{{"from", "RUNNING"}, {"to", "COMPLETED"}});
}

TEST_CASE("a rolled-back transition emits no event") {
  ConcDb c;
  const std::string id = c.flow({"--state", "PENDING"});
  const long long before = c.events();
  const Json failing = Json{{"name", "Failing"},
                            {"from", "*"},
                            {"to", "*"},
                            {"after", Json::array({Json{{"fail", "boom"}}})}};
  c.now = at(0, 1);
  const Json r = c.set(id, "RUNNING", {"--policy", instrument_only(c, Json::array({failing}))});
  CHECK(r["_exit_code"] == 70);
  CHECK(c.events() == before);
}

TEST_CASE("events: text, JSON, --run filter, --count, unknown run") {
  ConcDb c;
  const std::string a = c.flow({"--state", "SCHEDULED"});
  const std::string b = c.flow({"--state", "PENDING"});
  const Json all = c.cmd({"events"}, 0)["events"];
  CHECK(all.size() == 2);
  CHECK(events_of(c, b).size() == 1);
  const Json first = c.cmd({"events", "--count", "1"}, 0)["events"];
  REQUIRE(first.size() == 1);
  CHECK(first[0]["resource"]["prefect.resource.id"] == "prefect.flow-run." + a);
  const ProcessResult text = c.raw({"events", "--run", a});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("prefect.flow-run.Scheduled") != std::string::npos);
  const ProcessResult missing = c.raw({"events", "--run", "55555555-5555-4555-8555-555555555555"});
  CHECK(missing.exit_code == 66);
}

TEST_CASE("events --follow prints events as they are written (JSON Lines)") {
  ConcDb c;
  const std::string id = c.flow({"--state", "PENDING"});
  // The follower waits for two events of the run; the second is written after it started (or
  // before, if it starts late: it prints what exists first, so it never misses one).
  auto follower = std::async(std::launch::async, [&] {
    return c.db.run(
        {"events", "--run", id, "--follow", "--json", "--count", "2", "--timeout", "60"});
  });
  c.now = at(0, 1);
  REQUIRE(status(c.set(id, "RUNNING")) == "ACCEPT");
  const ProcessResult r = follower.get();
  CHECK(r.exit_code == 0);
  std::vector<Json> lines;
  std::size_t start = 0;
  while (start < r.out.size()) {
    const std::size_t end = r.out.find('\n', start);
    lines.push_back(Json::parse(r.out.substr(start, end - start)));
    start = end + 1;
  }
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["event"] == "prefect.flow-run.Pending");
  CHECK(lines[1]["event"] == "prefect.flow-run.Running");
}

TEST_CASE("events --follow stops at --timeout") {
  ConcDb c;
  c.flow();
  const ProcessResult r = c.raw({"events", "--follow", "--timeout", "0"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
}

}  // namespace
}  // namespace runctl::clitest
