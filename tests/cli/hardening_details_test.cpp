// Issue 14, item 7: an unknown key in --details, in an apply line's state_details or in a policy
// file's state is refused (65; 78 in a policy file) with the closest known key, instead of being
// ignored: a misspelt scheduled_time must not schedule the run for now.
#include <doctest/doctest.h>

#include "hardening_support.hpp"

namespace runctl::clitest {
namespace {

const std::string kKnownKeys =
    "(known keys: flow_run_id, task_run_id, child_flow_run_id, scheduled_time, cache_key, "
    "cache_expiration, deferred, untrackable_result, pause_timeout, pause_reschedule, pause_key, "
    "run_input_keyset, refresh_cache, retriable, transition_id, task_parameters_id, traceparent, "
    "deployment_concurrency_lease_id)";

TEST_CASE("hardening 7: a misspelt --details key is refused with the closest key") {
  CliDb db;
  const std::string id = db.create_flow({"--now", "2024-05-01T12:00:00Z", "--state", "PENDING"});
  const auto before = db.snapshot();
  check_rejected(db, before,
                 db.run({"--now", "2024-05-01T12:01:00Z", "set-state", id, "SCHEDULED", "--details",
                         R"({"scheduled_tme": "2024-05-02T00:00:00Z"})"}),
                 65,
                 "runctl: --details: unknown key \"scheduled_tme\" (did you mean scheduled_time?)");
  check_rejected(db, before,
                 db.run({"--now", "2024-05-01T12:01:00Z", "set-state", id, "RUNNING", "--details",
                         R"({"cache_key": "k", "Retriable": true})"}),
                 65, "runctl: --details: unknown key \"Retriable\" (did you mean retriable?)");
  // Nothing close: the known keys are listed.
  check_rejected(db, before,
                 db.run({"--now", "2024-05-01T12:01:00Z", "set-state", id, "RUNNING", "--details",
                         R"({"colour": "blue"})"}),
                 65, "runctl: --details: unknown key \"colour\" " + kKnownKeys);
  // The create commands' --details too.
  check_rejected(db, before,
                 db.run({"flow-run", "create", "--state", "SCHEDULED", "--details",
                         R"({"schedule_time": "2024-05-02T00:00:00Z"})"}),
                 65,
                 "runctl: --details: unknown key \"schedule_time\" (did you mean scheduled_time?)");
  // Every known key is still accepted.
  CHECK(
      db.json({"--now", "2024-05-01T12:01:00Z", "set-state", id, "SCHEDULED", "--details",
               R"({"scheduled_time": "2024-05-02T00:00:00Z", "cache_key": null})"})["_exit_code"] ==
      0);
}

TEST_CASE("hardening 7: an apply line's unknown state_details key fails that line") {
  CliDb db;
  const std::string id = db.create_flow({"--now", "2024-05-01T12:00:00Z", "--state", "PENDING"});
  const auto before = apply_baseline(db);
  const ProcessResult r = db.run({"--now", "2024-05-01T12:01:00Z", "apply"},
                                 "{\"run_id\": \"" + id +
                                     "\", \"state\": {\"type\": \"SCHEDULED\", \"state_details\": "
                                     "{\"scheduled_tme\": \"2024-05-02T00:00:00Z\"}}}\n");
  CHECK(r.exit_code == 65);
  CHECK(r.err.empty());
  CHECK(r.out ==
        "line 1: error (exit 65): state.state_details: unknown key \"scheduled_tme\" (did you "
        "mean scheduled_time?)\n");
  CHECK(db.snapshot() == before);
}

TEST_CASE("hardening 7: a policy file's state with an unknown state_details key is a bad file") {
  CliDb db;
  const std::string id = db.create_flow({"--now", "2024-05-01T12:00:00Z", "--state", "PENDING"});
  const std::string file = db.policy(Json::parse(R"({"rules": [{"name": "Later", "from": "*",
      "to": "*", "before": [{"reject": {"state": {"type": "SCHEDULED",
      "state_details": {"scheduled_tim": "2024-05-02T00:00:00Z"}}}}]}]})"));
  const auto before = db.snapshot();
  check_rejected(
      db, before,
      db.run({"--now", "2024-05-01T12:01:00Z", "set-state", id, "RUNNING", "--policy", file}), 78,
      "runctl: policy file " + file +
          ": $.rules[0].before[0].reject.state.state_details: unknown key "
          "\"scheduled_tim\" (did you mean scheduled_time?)");
}

}  // namespace
}  // namespace runctl::clitest
