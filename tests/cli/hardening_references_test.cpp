// Issue 14, item 11: every id a new run points at must exist, as --flow-run's always had to:
// flow-run create --deployment-id and --parent-task-run with an unknown id are refused (66).
#include <doctest/doctest.h>

#include "hardening_support.hpp"

namespace runctl::clitest {
namespace {

const std::string kUnknown = "00000000-0000-4000-8000-00000000abcd";

TEST_CASE("hardening 11: an unknown --deployment-id is refused with 66, nothing written") {
  CliDb db;
  REQUIRE(db.run({"init"}).exit_code == 0);
  const auto before = db.snapshot();
  const std::string line = "runctl: --deployment-id: deployment " + kUnknown +
                           " not found (runctl deployment create makes one)";
  check_rejected(db, before, db.run({"flow-run", "create", "--deployment-id", kUnknown}), 66, line);
  check_rejected(db, before,
                 db.run({"flow-run", "create", "--deployment-id", kUnknown, "--state", "SCHEDULED",
                         "--count", "5", "--json"}),
                 66, line);
  // A deployment that exists is taken.
  const std::string d = db.json({"deployment", "create"}, 0)["id"];
  const std::string run = db.create_flow({"--deployment-id", d});
  CHECK(db.show(run)["deployment_id"] == d);
}

TEST_CASE("hardening 11: an unknown --parent-task-run is refused with 66, nothing written") {
  CliDb db;
  const std::string flow = db.create_flow();
  const auto before = db.snapshot();
  check_rejected(db, before, db.run({"flow-run", "create", "--parent-task-run", kUnknown}), 66,
                 "runctl: --parent-task-run: task run " + kUnknown + " not found");
  // A flow run's id is not a task run's.
  check_rejected(db, before, db.run({"flow-run", "create", "--parent-task-run", flow}), 66,
                 "runctl: --parent-task-run: task run " + flow + " not found");
  const std::string task = db.create_task({"--flow-run", flow});
  const std::string subflow = db.create_flow({"--parent-task-run", task});
  CHECK(db.show(subflow)["parent_task_run_id"] == task);
}

TEST_CASE("hardening 11: --flow-run keeps its check") {
  CliDb db;
  REQUIRE(db.run({"init"}).exit_code == 0);
  const auto before = db.snapshot();
  check_rejected(db, before, db.run({"task-run", "create", "--flow-run", kUnknown}), 66,
                 "runctl: flow run " + kUnknown + " not found");
}

}  // namespace
}  // namespace runctl::clitest
