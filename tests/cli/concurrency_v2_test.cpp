// V2 "tag:<tag>" limits in SecureTaskConcurrencySlots / ReleaseTaskConcurrencySlots, with
// leases, through the CLI, after Prefect's TestSecureTaskConcurrencySlotsV2Integration
// (tests/server/orchestration/test_task_concurrency_v2_integration.py).
#include "cli/concurrency_fixture.hpp"
#include "cli/fault_injection.hpp"

namespace runctl::clitest {
namespace {

const Json kSecureRelease =
    Json::array({"SecureTaskConcurrencySlots", "ReleaseTaskConcurrencySlots"});

TEST_CASE("SecureTaskConcurrencySlots: a V2 tag limit shadows the V1 limit of the same tag") {
  ConcDb c;
  c.cmd({"concurrency-limit", "create", "--tag", "shared-tag", "--limit", "2"}, 0);
  c.cmd({"global-limit", "create", "tag:shared-tag", "--limit", "1"}, 0);
  const std::string p = c.policy(kSecureRelease);
  const std::string t1 = c.task({"--tags", "shared-tag", "--state", "PENDING"});
  const std::string t2 = c.task({"--tags", "shared-tag", "--state", "PENDING"});
  CHECK(status(c.set(t1, "RUNNING", {"--policy", p})) == "ACCEPT");
  CHECK(c.v2_active("tag:shared-tag") == 1);
  const Json wait = c.set(t2, "RUNNING", {"--policy", p});
  CHECK(status(wait) == "WAIT");
  CHECK(reason(wait) == "Concurrency limit reached for tags: shared-tag");
  // round(clamped_poisson_interval(avg = min(2.0, 10), 0.3)) lies in [1.50, 2.6].
  const auto delay = wait["details"]["delay_seconds"].get<long long>();
  CHECK(delay >= 2);
  CHECK(delay <= 3);
  CHECK(c.v2_active("tag:shared-tag") == 1);
  CHECK(c.v1_slots("shared-tag") == 0);  // the V1 row is untouched
}

TEST_CASE("SecureTaskConcurrencySlots: the V2 wait is reproducible with --seed") {
  ConcDb c;
  c.cmd({"global-limit", "create", "tag:t", "--limit", "1"}, 0);
  const std::string p = c.policy(kSecureRelease);
  CHECK(status(c.set(c.task({"--tags", "t", "--state", "PENDING"}), "RUNNING", {"--policy", p})) ==
        "ACCEPT");
  const std::string waiting = c.task({"--tags", "t", "--state", "PENDING"});
  const Json a = c.set(waiting, "RUNNING", {"--policy", p});
  const Json b = c.set(waiting, "RUNNING", {"--policy", p});
  CHECK(status(a) == "WAIT");
  CHECK(a["details"]["delay_seconds"] == b["details"]["delay_seconds"]);
}

TEST_CASE("SecureTaskConcurrencySlots: a V2 tag limit of 0 aborts and takes nothing") {
  ConcDb c;
  c.cmd({"global-limit", "create", "tag:zero", "--limit", "0"}, 0);
  const Json r = c.set(c.task({"--tags", "zero", "--state", "PENDING"}), "RUNNING",
                       {"--policy", c.policy(kSecureRelease)});
  CHECK(status(r) == "ABORT");
  CHECK(reason(r).find("is 0 and will deadlock") != std::string::npos);
  CHECK(c.v2_active("tag:zero") == 0);
  CHECK(c.leases() == 0);
}

TEST_CASE("SecureTaskConcurrencySlots: a V2 tag slot is held by a lease naming the task run") {
  ConcDb c;
  c.cmd({"global-limit", "create", "tag:leased", "--limit", "5"}, 0);
  const std::string id = c.task({"--tags", "leased", "--state", "PENDING"});
  CHECK(status(c.set(id, "RUNNING", {"--policy", c.policy(kSecureRelease)})) == "ACCEPT");
  const Json leases = c.cmd({"lease", "list"}, 0)["leases"];
  REQUIRE(leases.size() == 1);
  const Json& lease = leases[0];
  CHECK(lease["metadata"]["slots"] == 1);
  CHECK(lease["metadata"]["holder"] == Json{{"type", "task_run"}, {"id", id}});
  CHECK(lease["resource_ids"] == Json::array({c.v2_limit("tag:leased").value().id}));
  // 36 500 days: a tag lease outlives any task run.
  // (the proposal is the fixture's first microsecond tick after the fixed clock)
  CHECK(lease["expiration"] == "2125-12-08T12:00:00.000001+00:00");
}

TEST_CASE("SecureTaskConcurrencySlots: V2 and V1 limits on different tags are both taken") {
  ConcDb c;
  c.cmd({"global-limit", "create", "tag:v2-tag", "--limit", "1"}, 0);
  c.cmd({"concurrency-limit", "create", "--tag", "v1-tag", "--limit", "1"}, 0);
  const std::string id = c.task({"--tags", "v2-tag,v1-tag", "--state", "PENDING"});
  CHECK(status(c.set(id, "RUNNING", {"--policy", c.policy(kSecureRelease)})) == "ACCEPT");
  CHECK(c.v2_active("tag:v2-tag") == 1);
  CHECK(c.v1_holds("v1-tag", id));
  // Completing releases both.
  CHECK(status(c.set(id, "COMPLETED", {"--policy", c.policy(kSecureRelease)})) == "ACCEPT");
  CHECK(c.v2_active("tag:v2-tag") == 0);
  CHECK(c.v1_slots("v1-tag") == 0);
  CHECK(c.leases() == 0);
}

TEST_CASE("SecureTaskConcurrencySlots: an inactive V2 limit is ignored and the V1 limit applies") {
  ConcDb c;
  c.cmd({"global-limit", "create", "tag:both", "--limit", "1", "--inactive"}, 0);
  c.cmd({"concurrency-limit", "create", "--tag", "both", "--limit", "1"}, 0);
  const std::string id = c.task({"--tags", "both", "--state", "PENDING"});
  CHECK(status(c.set(id, "RUNNING", {"--policy", c.policy(kSecureRelease)})) == "ACCEPT");
  CHECK(c.v2_active("tag:both") == 0);
  CHECK(c.v1_holds("both", id));
  CHECK(c.leases() == 0);
}

TEST_CASE(
    "SecureTaskConcurrencySlots: "
    "a failing release in cleanup fails the transition and leaks nothing") {
  ConcDb c;
  c.cmd({"global-limit", "create", "tag:flaky", "--limit", "1"}, 0);
  const std::string id = c.task({"--tags", "flaky", "--state", "PENDING"});
  // The decrement "fails": every lowering of active_slots is silently skipped.
  drop_v2_decrements(c.db);
  const std::string p = c.policy(Json::array(
      {"SecureTaskConcurrencySlots", rejector("PENDING"), "ReleaseTaskConcurrencySlots"}));
  const Json r = c.set(id, "RUNNING", {"--policy", p});
  CHECK(r["_exit_code"] == 70);
  CHECK(r["error"].get<std::string>().rfind("Failed to release concurrency slots for lease ", 0) ==
        0);
  // Prefect's slot stays taken (its increment was committed separately); runctl rolled the whole
  // transition back, so nothing was taken.
  CHECK(c.v2_active("tag:flaky") == 0);
  CHECK(c.leases() == 0);
  CHECK(c.db.show(id)["state"]["type"] == "PENDING");
}

TEST_CASE("a V2 tag slot is taken and released by the core task policy") {
  ConcDb c;
  c.cmd({"global-limit", "create", "tag:gpu", "--limit", "1"}, 0);
  const std::string t1 = c.task({"--tags", "gpu", "--state", "PENDING"});
  const std::string t2 = c.task({"--tags", "gpu", "--state", "PENDING"});
  CHECK(status(c.set(t1, "RUNNING")) == "ACCEPT");
  CHECK(status(c.set(t2, "RUNNING")) == "WAIT");
  CHECK(status(c.set(t1, "COMPLETED")) == "ACCEPT");
  CHECK(c.v2_active("tag:gpu") == 0);
  CHECK(c.leases() == 0);
  CHECK(status(c.set(t2, "RUNNING")) == "ACCEPT");
  CHECK(c.v2_active("tag:gpu") == 1);
}

TEST_CASE("a V2 limit on several tags: one lease, released once") {
  ConcDb c;
  c.cmd({"global-limit", "create", "tag:a", "--limit", "2"}, 0);
  c.cmd({"global-limit", "create", "tag:b", "--limit", "2"}, 0);
  const std::string id = c.task({"--tags", "b,a", "--state", "PENDING"});
  CHECK(status(c.set(id, "RUNNING")) == "ACCEPT");
  CHECK(c.leases() == 1);
  CHECK(c.v2_active("tag:a") == 1);
  CHECK(c.v2_active("tag:b") == 1);
  CHECK(status(c.set(id, "COMPLETED")) == "ACCEPT");
  CHECK(c.v2_active("tag:a") == 0);
  CHECK(c.v2_active("tag:b") == 0);
  CHECK(c.leases() == 0);
}

TEST_CASE("one full V2 tag limit blocks all: nothing is taken from the others") {
  ConcDb c;
  c.cmd({"global-limit", "create", "tag:a", "--limit", "2"}, 0);
  c.cmd({"global-limit", "create", "tag:b", "--limit", "1"}, 0);
  CHECK(status(c.set(c.task({"--tags", "b", "--state", "PENDING"}), "RUNNING")) == "ACCEPT");
  const Json r = c.set(c.task({"--tags", "a,b", "--state", "PENDING"}), "RUNNING");
  CHECK(status(r) == "WAIT");
  CHECK(reason(r) == "Concurrency limit reached for tags: a, b");
  CHECK(c.v2_active("tag:a") == 0);
  CHECK(c.v2_active("tag:b") == 1);
}

TEST_CASE("slot decay frees V2 slots over time") {
  ConcDb c;
  c.cmd({"global-limit", "create", "tag:decay", "--limit", "1", "--slot-decay", "0.5"}, 0);
  const std::string p = c.policy(Json::array({"SecureTaskConcurrencySlots"}));
  CHECK(status(c.set(c.task({"--tags", "decay", "--state", "PENDING"}), "RUNNING",
                     {"--policy", p})) == "ACCEPT");
  const std::string second = c.task({"--tags", "decay", "--state", "PENDING"});
  c.now = at(0, 1);  // floor(0.5 * 1 s) = 0 slots decayed
  CHECK(status(c.set(second, "RUNNING", {"--policy", p})) == "WAIT");
  c.now = at(0, 2);  // floor(0.5 * 2 s) = 1
  CHECK(status(c.set(second, "RUNNING", {"--policy", p})) == "ACCEPT");
  CHECK(c.v2_active("tag:decay") == 1);
}

}  // namespace
}  // namespace runctl::clitest
