// Issue 14, item 15: a policy's run kind is checked. A built-in policy of the other kind is refused
// (64) with the one to use; a policy file takes the kind of the run-kind-specific built-ins it
// names or splices (docs/policy-files.md), is refused on the other kind, and cannot mix the two.
#include <doctest/doctest.h>

#include "hardening_support.hpp"

namespace runctl::clitest {
namespace {

const std::string kT = "2024-05-01T12:00:00Z";
const std::string kLater = "2024-05-01T12:00:01Z";

struct Fixture {
  CliDb db;
  std::string flow, task;
  Fixture() {
    flow = db.create_flow({"--now", kT, "--state", "PENDING"});
    task = db.create_task({"--now", kT, "--state", "PENDING"});
  }
  ProcessResult set(const std::string& id, const std::string& policy) const {
    return db.run({"--now", kLater, "set-state", id, "RUNNING", "--policy", policy});
  }
};

TEST_CASE("hardening 15: a built-in policy of the other run kind is refused with a hint") {
  Fixture f;
  const auto before = f.db.snapshot();
  check_rejected(f.db, before, f.set(f.task, "CoreFlowPolicy"), 64,
                 "runctl: --policy CoreFlowPolicy: a policy for flow runs, and the run is a task "
                 "run (use CoreTaskPolicy, or leave --policy out for the task runs' core policy)");
  check_rejected(f.db, before, f.set(f.flow, "core-task"), 64,
                 "runctl: --policy CoreTaskPolicy: a policy for task runs, and the run is a flow "
                 "run (use CoreFlowPolicy, or leave --policy out for the flow runs' core policy)");
  check_rejected(f.db, before, f.set(f.flow, "minimal-task"), 64,
                 "runctl: --policy MinimalTaskPolicy: a policy for task runs, and the run is a "
                 "flow run (use MinimalFlowPolicy, or leave --policy out for the flow runs' core "
                 "policy)");
  check_rejected(f.db, before, f.set(f.task, "MarkLateRunsPolicy"), 64,
                 "runctl: --policy MarkLateRunsPolicy: a policy for flow runs, and the run is a "
                 "task run (runctl policy list shows each policy's run kind, or leave --policy "
                 "out for the task runs' core policy)");
  // The right kind goes through; --force ignores --policy, as documented.
  CHECK(f.set(f.task, "CoreTaskPolicy").exit_code == 0);
  CHECK(f.db.run({"--now", "2024-05-01T12:00:02Z", "set-state", f.flow, "RUNNING", "--policy",
                  "core-task", "--force"})
            .exit_code == 0);
}

TEST_CASE("hardening 15: a policy file splicing or naming flow built-ins is for flow runs") {
  Fixture f;
  const auto before = f.db.snapshot();
  const std::string splice = f.db.policy(Json{{"rules", Json::array({"@core-flow"})}}, "a.json");
  check_rejected(f.db, before, f.set(f.task, splice), 64,
                 "runctl: --policy " + splice +
                     ": the file is for flow runs (\"@core-flow\" at $.rules[0]), and the run is a "
                     "task run");
  const std::string named = f.db.policy(
      Json{{"rules",
            Json::array({Json{{"name", "Mine"}, {"from", "*"}, {"to", "*"}}, "RetryFailedTasks"})}},
      "b.json");
  check_rejected(f.db, before, f.set(f.flow, named), 64,
                 "runctl: --policy " + named +
                     ": the file is for task runs (\"RetryFailedTasks\" at $.rules[1]), and the "
                     "run is a flow run");
  const std::string transforms = f.db.policy(
      Json{{"rules", Json::array()}, {"transforms", Json::array({"@global-flow"})}}, "c.json");
  check_rejected(f.db, before, f.set(f.task, transforms), 64,
                 "runctl: --policy " + transforms +
                     ": the file is for flow runs (\"@global-flow\" at $.transforms[0]), and the "
                     "run is a task run");
  CHECK(f.set(f.flow, splice).exit_code == 0);
}

TEST_CASE("hardening 15: a policy file of generic entries serves both kinds") {
  Fixture f;
  const std::string generic = f.db.policy(Json{
      {"rules",
       Json::array({"CopyScheduledTime", Json{{"name", "Mine"}, {"from", "*"}, {"to", "*"}}})}});
  CHECK(f.set(f.flow, generic).exit_code == 0);
  CHECK(f.set(f.task, generic).exit_code == 0);
}

TEST_CASE("hardening 15: a policy file cannot mix flow and task built-ins") {
  Fixture f;
  const auto before = f.db.snapshot();
  const std::string mixed =
      f.db.policy(Json{{"rules", Json::array({"@core-flow", "RetryFailedTasks"})}});
  const std::string line = "runctl: policy file " + mixed +
                           ": $.rules[1]: \"RetryFailedTasks\" is for task runs, but the file is "
                           "for flow runs (\"@core-flow\" at $.rules[0]); one policy cannot mix "
                           "the two";
  check_rejected(f.db, before, f.set(f.flow, mixed), 78, line);
  check_rejected(f.db, before, f.db.run({"policy", "show", mixed}), 78, line);
}

TEST_CASE("hardening 15: apply refuses the line of the other kind, policy show uses the kind") {
  Fixture f;
  const auto before = apply_baseline(f.db);
  const ProcessResult r =
      f.db.run({"--now", kLater, "apply", "--policy", "CoreFlowPolicy"},
               "{\"run_id\": \"" + f.task + "\", \"state\": {\"type\": \"RUNNING\"}}\n");
  CHECK(r.exit_code == 64);
  CHECK(r.out ==
        "line 1: error (exit 64): --policy CoreFlowPolicy: a policy for flow runs, and the run "
        "is a task run (use CoreTaskPolicy, or leave --policy out for the task runs' core "
        "policy)\n");
  CHECK(f.db.snapshot() == before);

  // A task policy file lists the task transforms without --run-kind, and refuses --run-kind flow.
  const std::string task_file =
      f.db.policy(Json{{"rules", Json::array({"RetryFailedTasks"})}}, "t.json");
  const Json shown = f.db.json({"policy", "show", task_file}, 0);
  CHECK(shown["transforms_from"] == "GlobalTaskPolicy");
  check_rejected(f.db, before, f.db.run({"policy", "show", task_file, "--run-kind", "flow"}), 64,
                 "runctl: --run-kind flow: policy file " + task_file +
                     " is for task runs (\"RetryFailedTasks\" at $.rules[0])");
}

}  // namespace
}  // namespace runctl::clitest
