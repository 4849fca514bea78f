// The concurrency-limit, global-limit, deployment and lease commands, and the policies' entries.
#include "cli/concurrency_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {
namespace {

// A list command's JSON array (cmd returns arrays as they are; this names the intent).
// The one array a listing's --json object holds under `key`.
Json array_of(Json out, const char* key) {
  REQUIRE(out.is_object());
  REQUIRE(out.at(key).is_array());
  return out.at(key);
}

TEST_CASE("CoreFlowPolicy and CoreTaskPolicy list Prefect's entries in Prefect's order") {
  ConcDb c;
  const Json flow = c.cmd({"policy", "show", "CoreFlowPolicy"}, 0);
  std::vector<std::string> names;
  for (const auto& e : flow["rules"]) names.push_back(e["name"].get<std::string>());
  CHECK(names == std::vector<std::string>{
                     "PreserveDeploymentConcurrencyLeaseId", "PreventDuplicateTransitions",
                     "HandleFlowTerminalStateTransitions", "EnforceCancellingToCancelledTransition",
                     "BypassCancellingFlowRunsWithNoInfra", "PreventPendingTransitions",
                     "ValidateDeploymentConcurrencyAtRunning", "SecureFlowConcurrencySlots",
                     "RemoveDeploymentConcurrencyLeaseForOldClientVersions",
                     "EnsureOnlyScheduledFlowsMarkedLate", "HandlePausingFlows",
                     "HandleResumingPausedFlows", "CopyScheduledTime", "WaitForScheduledTime",
                     "RetryFailedFlows", "InstrumentFlowRunStateTransitions",
                     "ReleaseFlowConcurrencySlots"});
  CHECK(flow["not_implemented"] == Json::array());
  const Json task = c.cmd({"policy", "show", "CoreTaskPolicy"}, 0);
  names.clear();
  for (const auto& e : task["rules"]) names.push_back(e["name"].get<std::string>());
  CHECK(names == std::vector<std::string>{"CacheRetrieval", "HandleTaskTerminalStateTransitions",
                                          "PreventRunningTasksFromStoppedFlows",
                                          "SecureTaskConcurrencySlots", "CopyScheduledTime",
                                          "WaitForScheduledTime", "RetryFailedTasks",
                                          "RenameReruns", "UpdateFlowRunTrackerOnTasks",
                                          "CacheInsertion", "ReleaseTaskConcurrencySlots"});
  CHECK(task["not_implemented"] == Json::array());
  for (const char* p : {"MinimalFlowPolicy", "MarkLateRunsPolicy", "MinimalTaskPolicy"})
    CHECK(c.cmd({"policy", "show", p}, 0)["not_implemented"] == Json::array());
  // Kinds: the transforms among them.
  CHECK(flow["rules"][0]["kind"] == "transform");
  CHECK(flow["rules"][15]["kind"] == "transform");
  CHECK(flow["rules"][16]["kind"] == "transform");
  CHECK(task["rules"][10]["kind"] == "transform");
}

TEST_CASE(
    "concurrency-limit: create (an upsert), list, show with holders, release, reset, delete") {
  ConcDb c;
  const Json created = c.cmd({"concurrency-limit", "create", "--tag", "db", "--limit", "2"}, 0);
  CHECK(created["tag"] == "db");
  CHECK(created["concurrency_limit"] == 2);
  CHECK(created["active_slots"] == Json::array());
  const std::string t1 = c.task({"--tags", "db", "--state", "PENDING"});
  const std::string t2 = c.task({"--tags", "db", "--state", "PENDING"});
  CHECK(status(c.set(t1, "RUNNING")) == "ACCEPT");
  CHECK(status(c.set(t2, "RUNNING")) == "ACCEPT");

  const Json again = c.cmd({"concurrency-limit", "create", "--tag", "db", "--limit", "3"}, 0);
  CHECK(again["id"] == created["id"]);
  CHECK(again["concurrency_limit"] == 3);
  CHECK(again["active_slots"].size() == 2);

  const Json list = array_of(c.cmd({"concurrency-limit", "list"}, 0), "limits");
  REQUIRE(list.size() == 1);
  CHECK(list[0]["tag"] == "db");

  const Json show = c.cmd({"concurrency-limit", "show", "db"}, 0);
  REQUIRE(show["holders"].size() == 2);
  for (const auto& h : show["holders"]) {
    CHECK(h["found"] == true);
    CHECK(h["state_type"] == "RUNNING");
  }
  const ProcessResult text = c.raw({"concurrency-limit", "show", "db"});
  CHECK(text.out.find(t1) != std::string::npos);
  CHECK(text.out.find("runctl concurrency-limit release db") != std::string::npos);

  CHECK(c.cmd({"concurrency-limit", "release", "db", t1}, 0)["active_slots"] == Json::array({t2}));
  CHECK(c.raw({"concurrency-limit", "release", "db", t1}).exit_code == 66);
  CHECK(c.cmd({"concurrency-limit", "reset", "db"}, 0)["active_slots"] == Json::array());
  c.cmd({"concurrency-limit", "delete", "db"}, 0);
  CHECK(array_of(c.cmd({"concurrency-limit", "list"}, 0), "limits").empty());
  CHECK(c.raw({"concurrency-limit", "show", "db"}).exit_code == 66);
  CHECK(c.raw({"concurrency-limit", "delete", "db"}).exit_code == 66);
  CHECK(c.raw({"concurrency-limit", "create", "--tag", "x", "--limit", "-1"}).exit_code == 64);
  CHECK(c.raw({"concurrency-limit", "create", "--tag", "", "--limit", "1"}).exit_code == 64);
}

TEST_CASE("show names a holder whose task run is gone") {
  ConcDb c;
  c.cmd({"concurrency-limit", "create", "--tag", "db", "--limit", "1"}, 0);
  const std::string id = c.task({"--tags", "db", "--state", "PENDING"});
  CHECK(status(c.set(id, "RUNNING")) == "ACCEPT");
  // The slot leaks to a task run that is gone: V1 slots name task runs by id, with no foreign key.
  const std::string gone = "00000000-0000-4000-8000-0000000000aa";
  c.db.open()->concurrency().set_v1_active_slots("db", {id, gone}, timestamp(c.now));
  const Json show = c.cmd({"concurrency-limit", "show", "db"}, 0);
  REQUIRE(show["holders"].size() == 2);
  CHECK(show["holders"][0]["found"] == false);
  CHECK(show["holders"][0]["task_run_id"] == gone);
  CHECK(show["holders"][1]["found"] == true);
  CHECK(show["holders"][1]["task_run_id"] == id);
}

TEST_CASE("global-limit: create, list, show with leases, update, delete") {
  ConcDb c;
  const Json created =
      c.cmd({"global-limit", "create", "tag:gpu", "--limit", "2", "--slot-decay", "0.5"}, 0);
  CHECK(created["name"] == "tag:gpu");
  CHECK(created["limit"] == 2);
  CHECK(created["active"] == true);
  CHECK(created["active_slots"] == 0);
  CHECK(created["slot_decay_per_second"] == 0.5);
  CHECK(created["avg_slot_occupancy_seconds"] == 2.0);
  CHECK(c.raw({"global-limit", "create", "tag:gpu", "--limit", "1"}).exit_code == 65);

  const std::string id = c.task({"--tags", "gpu", "--state", "PENDING"});
  CHECK(status(c.set(id, "RUNNING")) == "ACCEPT");
  const Json show = c.cmd({"global-limit", "show", "tag:gpu"}, 0);
  CHECK(show["active_slots"] == 1);
  REQUIRE(show["leases"].size() == 1);
  CHECK(show["leases"][0]["metadata"]["holder"]["id"] == id);
  CHECK(show["leases"][0]["expired"] == false);
  const ProcessResult text = c.raw({"global-limit", "show", "tag:gpu"});
  CHECK(text.out.find("task_run " + id) != std::string::npos);
  CHECK(text.out.find("runctl lease release") != std::string::npos);

  const Json updated = c.cmd(
      {"global-limit", "update", "tag:gpu", "--limit", "5", "--inactive", "--active-slots", "0"},
      0);
  CHECK(updated["limit"] == 5);
  CHECK(updated["active"] == false);
  CHECK(updated["active_slots"] == 0);
  CHECK(c.cmd({"global-limit", "update", "tag:gpu", "--active"}, 0)["active"] == true);
  // An update that names neither flag keeps the limit active.
  CHECK(c.cmd({"global-limit", "update", "tag:gpu", "--limit", "6"}, 0)["active"] == true);
  CHECK(c.raw({"global-limit", "update", "tag:gpu", "--active", "--inactive"}).exit_code == 64);
  CHECK(array_of(c.cmd({"global-limit", "list"}, 0), "limits").size() == 1);
  c.cmd({"global-limit", "delete", "tag:gpu"}, 0);
  CHECK(c.raw({"global-limit", "show", "tag:gpu"}).exit_code == 66);
  CHECK(c.raw({"global-limit", "update", "tag:gpu", "--limit", "1"}).exit_code == 66);
}

TEST_CASE("deployment: create with a limit and options, list, show with leases") {
  ConcDb c;
  const Json d = c.cmd(
      {"deployment", "create", "--name", "nightly", "--flow-name", "etl", "--concurrency-limit",
       "1", "--collision-strategy", "cancel-new", "--grace-period", "600", "--tags", "a,b"},
      0);
  const std::string id = d["id"].get<std::string>();
  CHECK(d["name"] == "nightly");
  CHECK(d["flow_name"] == "etl");
  CHECK(d["tags"] == Json::array({"a", "b"}));
  CHECK(d["concurrency_limit"] == 1);
  CHECK(d["concurrency_options"] ==
        Json{{"collision_strategy", "CANCEL_NEW"}, {"grace_period_seconds", 600}});
  CHECK(d["global_concurrency_limit"]["name"] == "deployment:" + id);

  const std::string run = c.flow({"--deployment-id", id, "--state", "SCHEDULED"});
  CHECK(status(c.set(run, "PENDING")) == "ACCEPT");
  const Json show = c.cmd({"deployment", "show", id}, 0);
  REQUIRE(show["leases"].size() == 1);
  CHECK(show["leases"][0]["origin_run_id"] == run);
  CHECK(show["leases"][0]["expiration"] == "2026-01-01T12:10:00.000000+00:00");
  const ProcessResult text = c.raw({"deployment", "show", id});
  CHECK(text.out.find("run " + run) != std::string::npos);
  CHECK(text.out.find("1 (1 taken") != std::string::npos);

  const Json plain = c.cmd({"deployment", "create"}, 0);
  CHECK(plain["concurrency_limit"].is_null());
  CHECK(plain["concurrency_options"].is_null());
  CHECK(array_of(c.cmd({"deployment", "list"}, 0), "deployments").size() == 2);

  CHECK(c.raw({"deployment", "create", "--name", "nightly", "--flow-name", "etl"}).exit_code == 65);
  CHECK(c.raw({"deployment", "create", "--grace-period", "30"}).exit_code == 64);
  CHECK(c.raw({"deployment", "create", "--collision-strategy", "sometimes"}).exit_code == 64);
  CHECK(c.raw({"deployment", "show", "66666666-6666-4666-8666-666666666666"}).exit_code == 66);
  CHECK(c.raw({"deployment", "show", "not-a-uuid"}).exit_code == 65);
}

TEST_CASE("deleting a deployment's limit leaves the deployment unlimited") {
  ConcDb c;
  const std::string d = c.deployment({"--concurrency-limit", "1"});
  c.cmd({"global-limit", "delete", "deployment:" + d}, 0);
  CHECK(c.cmd({"deployment", "show", d}, 0)["concurrency_limit_id"].is_null());
  const std::string run = c.flow({"--deployment-id", d, "--state", "SCHEDULED"});
  CHECK(status(c.set(run, "PENDING")) == "ACCEPT");
  CHECK(c.leases() == 0);
}

TEST_CASE("lease list, reap and release") {
  ConcDb c;
  const std::string d = c.deployment({"--concurrency-limit", "2"});
  const std::string limit = c.deployment_limit_id(d);
  const std::string r1 = c.flow({"--deployment-id", d, "--state", "SCHEDULED"});
  const std::string r2 = c.flow({"--deployment-id", d, "--state", "SCHEDULED"});
  CHECK(status(c.set(r1, "PENDING")) == "ACCEPT");
  c.now = at(3);
  CHECK(status(c.set(r2, "PENDING")) == "ACCEPT");
  CHECK(c.v2_active(limit) == 2);

  // At 12:06 the first lease (12:05) has expired, the second (12:08) has not.
  c.now = at(6);
  Json leases = array_of(c.cmd({"lease", "list"}, 0), "leases");
  REQUIRE(leases.size() == 2);
  CHECK(leases[0]["expired"] == true);
  CHECK(leases[1]["expired"] == false);
  const Json reaped = c.cmd({"lease", "reap"}, 0)["reaped"];
  REQUIRE(reaped.size() == 1);
  CHECK(reaped[0]["origin_run_id"] == r1);
  CHECK(c.v2_active(limit) == 1);
  // The repossessor's occupancy average: 2 + 360/(2*2) - 2/(2*2).
  CHECK(c.v2_limit(limit).value().avg_slot_occupancy_seconds == 91.5);
  CHECK(c.cmd({"lease", "reap"}, 0)["reaped"].empty());

  const std::string second =
      array_of(c.cmd({"lease", "list"}, 0), "leases")[0]["id"].get<std::string>();
  const Json released = c.cmd({"lease", "release", second}, 0);
  CHECK(released["decremented"] == true);
  CHECK(c.v2_active(limit) == 0);
  CHECK(c.leases() == 0);
  CHECK(c.raw({"lease", "release", second}).exit_code == 66);
}

TEST_CASE("read-only commands on a database from before the concurrency schema list nothing" *
          RUNCTL_SQLITE_ONLY("a schema-2 file; PostgreSQL's schema history starts at version 5")) {
  ConcDb c;
  c.flow();
  reliability::Sql(c.db.path())
      .exec(
          "DROP TABLE concurrency_lease_resource; DROP TABLE concurrency_lease;"
          " DROP TABLE deployment; DROP TABLE flow; DROP TABLE concurrency_limit_v2;"
          " DROP TABLE concurrency_limit; PRAGMA user_version = 2");
  CHECK(array_of(c.cmd({"concurrency-limit", "list"}, 0), "limits").empty());
  CHECK(array_of(c.cmd({"lease", "list"}, 0), "leases").empty());
  CHECK(array_of(c.cmd({"events"}, 0), "events").empty());
  CHECK(c.raw({"global-limit", "show", "x"}).exit_code == 66);
}

}  // namespace
}  // namespace runctl::clitest
