// Deployment concurrency limits with leases (SecureFlowConcurrencySlots,
// ReleaseFlowConcurrencySlots, ValidateDeploymentConcurrencyAtRunning,
// RemoveDeploymentConcurrencyLeaseForOldClientVersions, PreserveDeploymentConcurrencyLeaseId),
// through the CLI. The cases follow Prefect's TestFlowConcurrencyLimits and
// TestPreserveDeploymentConcurrencyLeaseId (tests/server/orchestration/test_core_policy.py) and
// TestValidateDeploymentConcurrencyAtRunning
// (tests/server/orchestration/test_validate_deployment_concurrency_at_running.py).
#include "cli/concurrency_fixture.hpp"
#include "cli/fault_injection.hpp"

namespace runctl::clitest {
namespace {

const std::vector<std::string> kTypes = {"SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED",
                                         "CANCELLED", "CRASHED", "PAUSED",  "CANCELLING"};

struct DeploymentCase {
  ConcDb c;
  std::string deployment, limit_id;
  std::string secure, release, validate, neutral;

  explicit DeploymentCase(std::vector<std::string> deployment_flags = {"--concurrency-limit",
                                                                       "1"}) {
    deployment = c.deployment(deployment_flags);
    limit_id = c.deployment_limit_id(deployment);
    secure = c.policy(Json::array({"SecureFlowConcurrencySlots"}));
    release = c.policy(Json::array({"ReleaseFlowConcurrencySlots"}));
    validate = c.policy(Json::array({"ValidateDeploymentConcurrencyAtRunning"}));
    neutral = c.policy(Json::array());  // only the global bookkeeping
  }
  std::string run(const std::string& state, std::vector<std::string> extra = {}) {
    std::vector<std::string> flags{"--deployment-id", deployment, "--state", state};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return c.flow(flags);
  }
  Json set(const std::string& id, const std::string& type, const std::string& policy,
           std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--policy", policy});
    return c.set(id, type, extra);
  }
  long long active() const { return c.v2_active(limit_id); }
  // A run that took the slot: SCHEDULED -> PENDING through SecureFlowConcurrencySlots.
  std::pair<std::string, std::string> pending_with_lease() {
    const std::string id = run("SCHEDULED");
    const Json r = set(id, "PENDING", secure);
    REQUIRE(status(r) == "ACCEPT");
    REQUIRE(lease_id_of(validated(r)).is_string());
    return {id, lease_id_of(validated(r)).get<std::string>()};
  }
  std::string lease_expiration(const std::string& lease_id) const {
    const auto lease = c.db.open(OpenMode::kRead)->concurrency().read_lease(lease_id);
    REQUIRE(lease.has_value());
    return format_timestamp(lease->expiration);
  }
};

TEST_CASE(
    "SecureFlowConcurrencySlots takes nothing for runs already PENDING, RUNNING or CANCELLING") {
  DeploymentCase d;
  d.pending_with_lease();
  CHECK(d.active() == 1);
  for (const std::string initial : {"PENDING", "RUNNING", "CANCELLING"})
    for (const std::string& proposed : kTypes) {
      if (proposed == "PENDING") continue;
      CAPTURE(initial);
      CAPTURE(proposed);
      CHECK(status(d.set(d.run(initial), proposed, d.secure)) == "ACCEPT");
      CHECK(d.active() == 1);
    }
}

TEST_CASE("ReleaseFlowConcurrencySlots does nothing for a run without a deployment") {
  DeploymentCase d;
  d.pending_with_lease();
  for (const std::string initial :
       {"SCHEDULED", "PENDING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED"})
    for (const std::string proposed : {"PENDING", "RUNNING", "CANCELLING"}) {
      CAPTURE(initial);
      CAPTURE(proposed);
      const std::string id = d.c.flow({"--state", initial});
      CHECK(status(d.set(id, proposed, d.release)) == "ACCEPT");
      CHECK(d.active() == 1);
    }
}

TEST_CASE(
    "SecureFlowConcurrencySlots: "
    "a full deployment limit reschedules the run as AwaitingConcurrencySlot") {
  DeploymentCase d({"--concurrency-limit", "2"});
  const auto [run1, lease1] = d.pending_with_lease();
  const auto [run2, lease2] = d.pending_with_lease();
  CHECK(lease1 != lease2);
  CHECK(d.c.leases() == 2);
  const Json leases = d.c.cmd({"lease", "list"}, 0)["leases"];
  for (int i = 0; i < 2; ++i) {
    CHECK(leases[i]["resource_ids"] == Json::array({d.limit_id}));
    CHECK(leases[i]["metadata"]["slots"] == 1);
    CHECK(leases[i]["metadata"]["holder"].is_null());  // Prefect records no holder here
  }
  const Json r = d.set(d.run("SCHEDULED"), "PENDING", d.secure);
  CHECK(status(r) == "REJECT");
  CHECK(reason(r) == "Deployment concurrency limit reached.");
  CHECK(validated(r)["type"] == "SCHEDULED");
  CHECK(validated(r)["name"] == "AwaitingConcurrencySlot");
  CHECK(validated(r)["state_details"]["scheduled_time"] == "2026-01-01T12:00:30.000000+00:00");
  CHECK(d.active() == 2);
}

TEST_CASE(
    "ReleaseFlowConcurrencySlots: "
    "the lease follows the run to RUNNING and is released at the end") {
  DeploymentCase d;
  const auto [run1, lease] = d.pending_with_lease();
  const std::string run2 = d.run("SCHEDULED");
  CHECK(status(d.set(run2, "PENDING", d.secure)) == "REJECT");
  const Json running = d.set(run1, "RUNNING", d.validate);
  CHECK(status(running) == "ACCEPT");
  CHECK(lease_id_of(validated(running)) == lease);
  const Json done = d.set(run1, "COMPLETED", d.release);
  CHECK(status(done) == "ACCEPT");
  CHECK(lease_id_of(validated(done)).is_null());
  CHECK(d.c.leases() == 0);
  CHECK(d.active() == 0);
  CHECK(status(d.set(run2, "PENDING", d.secure)) == "ACCEPT");
}

TEST_CASE("ReleaseFlowConcurrencySlots: without the deployment the lease alone releases the slot") {
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();
  // The run's deployment is gone (Prefect lets a flow run's deployment_id dangle).
  d.c.db.update_run(id,
                    [](Run& run) { run.deployment_id = "00000000-0000-4000-8000-00000000dead"; });
  CHECK(status(d.set(id, "COMPLETED", d.release)) == "ACCEPT");
  CHECK(d.c.leases() == 0);
  CHECK(d.active() == 0);
}

TEST_CASE("SecureFlowConcurrencySlots: a failing release in its cleanup fails the transition") {
  DeploymentCase d;
  const std::string id = d.run("SCHEDULED");
  drop_v2_decrements(d.c.db);
  const std::string p =
      d.c.policy(Json::array({"SecureFlowConcurrencySlots", rejector("SCHEDULED")}));
  const Json r = d.set(id, "PENDING", p);
  CHECK(r["_exit_code"] == 70);
  CHECK(r["error"].get<std::string>().rfind("Failed to release concurrency slots for lease ", 0) ==
        0);
  // Prefect leaves the slot taken (active 1); runctl rolls the transition back, slot included.
  CHECK(d.active() == 0);
  CHECK(d.c.leases() == 0);
  CHECK(d.c.db.show(id)["state"]["type"] == "SCHEDULED");
}

TEST_CASE("SecureFlowConcurrencySlots: CANCEL_NEW cancels the run that finds the limit full") {
  DeploymentCase d({"--concurrency-limit", "1", "--collision-strategy", "cancel-new"});
  d.pending_with_lease();
  const Json r = d.set(d.run("SCHEDULED"), "PENDING", d.secure);
  CHECK(status(r) == "REJECT");
  CHECK(reason(r) == "Deployment concurrency limit reached.");
  CHECK(validated(r)["type"] == "CANCELLED");
  CHECK(validated(r)["message"] == "Deployment concurrency limit reached.");
}

void enqueue_then_run(DeploymentCase& d) {
  const auto [run1, lease] = d.pending_with_lease();
  const std::string run2 = d.run("SCHEDULED");
  const Json r = d.set(run2, "PENDING", d.secure);
  CHECK(status(r) == "REJECT");
  CHECK(validated(r)["name"] == "AwaitingConcurrencySlot");
  CHECK(validated(r)["state_details"]["scheduled_time"] == "2026-01-01T12:00:30.000000+00:00");
  CHECK(status(d.set(run1, "RUNNING", d.neutral)) == "ACCEPT");
  CHECK(status(d.set(run1, "COMPLETED", d.release)) == "ACCEPT");
  CHECK(d.active() == 0);
  CHECK(status(d.set(run2, "PENDING", d.secure)) == "ACCEPT");
  CHECK(d.active() == 1);
}

TEST_CASE(
    "SecureFlowConcurrencySlots: "
    "ENQUEUE: the rescheduled run gets the slot once it is free") {
  DeploymentCase d({"--concurrency-limit", "1", "--collision-strategy", "enqueue"});
  enqueue_then_run(d);
}

TEST_CASE("SecureFlowConcurrencySlots: no concurrency options behaves as ENQUEUE") {
  DeploymentCase d;
  enqueue_then_run(d);
}

TEST_CASE("SecureFlowConcurrencySlots: a deployment limit of 0 aborts") {
  DeploymentCase d({"--concurrency-limit", "0"});
  const Json r = d.set(d.run("SCHEDULED"), "PENDING", d.secure);
  CHECK(status(r) == "ABORT");
  CHECK(reason(r) ==
        "The deployment concurrency limit is 0. The flow will deadlock if submitted again.");
}

TEST_CASE("SecureFlowConcurrencySlots: a deployment without a limit is not limited") {
  DeploymentCase d(std::vector<std::string>{});
  const std::string p =
      d.c.policy(Json::array({"SecureFlowConcurrencySlots", "ReleaseFlowConcurrencySlots"}));
  const Json r = d.set(d.run("SCHEDULED"), "PENDING", p);
  CHECK(status(r) == "ACCEPT");
  CHECK(lease_id_of(validated(r)).is_null());
  CHECK(d.c.leases() == 0);
}

TEST_CASE("ReleaseFlowConcurrencySlots: an aborted transition keeps the slot") {
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();
  CHECK(status(d.set(id, "RUNNING", d.neutral)) == "ACCEPT");
  const std::string p = d.c.policy(
      Json::array({aborter(), "SecureFlowConcurrencySlots", "ReleaseFlowConcurrencySlots"}));
  const Json r = d.set(id, "COMPLETED", p);
  CHECK(status(r) == "ABORT");
  CHECK(reason(r) == "For testing purposes");
  CHECK(d.active() == 1);
}

TEST_CASE("SecureFlowConcurrencySlots: each deployment has its own limit") {
  DeploymentCase a;
  const std::string b = a.c.deployment({"--concurrency-limit", "2"});
  const std::string b_limit = a.c.deployment_limit_id(b);
  a.pending_with_lease();
  CHECK(status(a.set(a.run("SCHEDULED"), "PENDING", a.secure)) == "REJECT");
  CHECK(a.active() == 1);
  for (int i = 0; i < 3; ++i) {
    const std::string id = a.c.flow({"--deployment-id", b, "--state", "SCHEDULED"});
    CHECK(status(a.set(id, "PENDING", a.secure)) == (i < 2 ? "ACCEPT" : "REJECT"));
  }
  CHECK(a.c.v2_active(b_limit) == 2);
  CHECK(a.active() == 1);
}

TEST_CASE("ReleaseFlowConcurrencySlots: CANCELLING keeps the deployment slot, CANCELLED frees it") {
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();
  CHECK(status(d.set(id, "RUNNING", d.neutral)) == "ACCEPT");
  CHECK(status(d.set(id, "CANCELLING", d.secure)) == "ACCEPT");
  CHECK(d.active() == 1);
  CHECK(status(d.set(id, "CANCELLED", d.release)) == "ACCEPT");
  CHECK(d.active() == 0);
  CHECK(status(d.set(d.run("SCHEDULED"), "PENDING", d.secure)) == "ACCEPT");
  CHECK(d.active() == 1);
}

TEST_CASE(
    "ReleaseFlowConcurrencySlots: "
    "without a lease id the slot is released through the deployment") {
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();
  // Through Secure only (not compiled for PENDING -> RUNNING) nothing carries the lease id over.
  const Json running = d.set(id, "RUNNING", d.secure);
  CHECK(status(running) == "ACCEPT");
  CHECK(lease_id_of(validated(running)).is_null());
  CHECK(d.active() == 1);
  CHECK(status(d.set(id, "COMPLETED", d.release)) == "ACCEPT");
  CHECK(d.active() == 0);
}

TEST_CASE("SecureFlowConcurrencySlots: an error reading the deployment aborts and takes nothing") {
  DeploymentCase d;
  const std::string id = d.run("SCHEDULED");
  corrupt_concurrency_options(d.c.db, d.deployment);
  const Json r = d.set(id, "PENDING", d.secure);
  CHECK(status(r) == "ABORT");
  CHECK(r["_exit_code"] == 70);  // Prefect re-raises it; runctl rolls back
  CHECK(reason(r).rfind("Aborting orchestration due to error in SecureFlowConcurrencySlots: !",
                        0) == 0);
  CHECK(d.active() == 0);
}

TEST_CASE("SecureFlowConcurrencySlots: a later rejection makes it give the slot and lease back") {
  for (const bool with_client : {false, true}) {
    CAPTURE(with_client);
    DeploymentCase d;
    const std::string p =
        d.c.policy(Json::array({"SecureFlowConcurrencySlots", rejector("FAILED", "Mutator"),
                                "ReleaseFlowConcurrencySlots"}));
    std::vector<std::string> extra;
    if (with_client) extra = {"--client-version", "3.4.11"};
    const Json r = d.set(d.run("SCHEDULED"), "PENDING", p, extra);
    CHECK(status(r) == "REJECT");
    CHECK(validated(r)["type"] == "FAILED");
    CHECK(d.active() == 0);
    CHECK(d.c.leases() == 0);
  }
}

TEST_CASE(
    "RemoveDeploymentConcurrencyLeaseForOldClientVersions: "
    "old clients' leases are revoked when the run leaves PENDING") {
  const std::string remove = "RemoveDeploymentConcurrencyLeaseForOldClientVersions";
  for (const char* client : {"3.4.10", "3.4.11", ""}) {
    CAPTURE(client);
    DeploymentCase d;
    const auto [id, lease] = d.pending_with_lease();
    std::vector<std::string> extra;
    if (*client) extra = {"--client-version", client};
    const Json r = d.set(id, "RUNNING", d.c.policy(Json::array({remove})), extra);
    CHECK(status(r) == "ACCEPT");
    CHECK(d.c.leases() == (std::string(client) == "3.4.11" ? 1 : 0));
    CHECK(d.active() == 1);  // revoking does not free the slot
  }
}

TEST_CASE("SecureFlowConcurrencySlots: the lease duration setting sets the lease TTL") {
  ScopedEnv env("PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION", "123");
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();
  CHECK(d.lease_expiration(lease) == "2026-01-01T12:02:03.000000+00:00");
}

TEST_CASE("SecureFlowConcurrencySlots: the lease TTL is the grace period, else 300 s") {
  struct Case {
    std::vector<std::string> flags;
    const char* expiration;
  };
  for (const Case& k : {Case{{"--concurrency-limit", "1"}, "2026-01-01T12:05:00.000000+00:00"},
                        Case{{"--concurrency-limit", "1", "--collision-strategy", "enqueue"},
                             "2026-01-01T12:05:00.000000+00:00"},
                        Case{{"--concurrency-limit", "1", "--grace-period", "720"},
                             "2026-01-01T12:12:00.000000+00:00"}}) {
    CAPTURE(k.expiration);
    DeploymentCase d(k.flags);
    const auto [id, lease] = d.pending_with_lease();
    CHECK(d.lease_expiration(lease) == k.expiration);
  }
}

TEST_CASE("a malformed setting is a usage error") {
  DeploymentCase d;
  const std::string id = d.run("SCHEDULED");
  ScopedEnv env("PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION", "5");
  const std::string before = d.c.db.snapshot();
  const ProcessResult r = d.c.raw({"set-state", id, "PENDING"});
  CHECK(d.c.db.snapshot() == before);
  CHECK(r.exit_code == 64);
  CHECK(r.err.find("PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION") !=
        std::string::npos);
}

// PreserveDeploymentConcurrencyLeaseId -----------------------------------------------------------

constexpr const char* kLease = "11111111-1111-4111-8111-111111111111";
constexpr const char* kLease2 = "22222222-2222-4222-8222-222222222222";

std::string with_lease(const char* lease) {
  return Json{{"deployment_concurrency_lease_id", lease ? Json(lease) : Json()}}.dump();
}

struct PreserveCase {
  ConcDb c;
  std::string preserve = c.policy(Json::array({"PreserveDeploymentConcurrencyLeaseId"}));
  std::string pending_run() {
    return c.flow({"--state", "PENDING", "--details", with_lease(kLease)});
  }
};

TEST_CASE(
    "PreserveDeploymentConcurrencyLeaseId: "
    "an explicit null lease id takes the current state's") {
  PreserveCase t;
  const Json r =
      t.c.set(t.pending_run(), "PENDING",
              {"--name", "Submitting", "--details", with_lease(nullptr), "--policy", t.preserve});
  CHECK(status(r) == "ACCEPT");
  CHECK(lease_id_of(validated(r)) == kLease);
}

TEST_CASE("PreserveDeploymentConcurrencyLeaseId: a proposal's own lease id is kept") {
  PreserveCase t;
  const Json r =
      t.c.set(t.pending_run(), "PENDING",
              {"--name", "Submitting", "--details", with_lease(kLease2), "--policy", t.preserve});
  CHECK(lease_id_of(validated(r)) == kLease2);
}

TEST_CASE("PreserveDeploymentConcurrencyLeaseId: no current state: the proposal is unchanged") {
  PreserveCase t;
  const Json r = t.c.set(t.c.flow(), "PENDING", {"--policy", t.preserve});
  CHECK(status(r) == "ACCEPT");
  CHECK(lease_id_of(validated(r)).is_null());
}

TEST_CASE("PreserveDeploymentConcurrencyLeaseId: PENDING -> RUNNING keeps the lease id") {
  PreserveCase t;
  const Json r = t.c.set(t.pending_run(), "RUNNING", {"--policy", t.preserve});
  CHECK(lease_id_of(validated(r)) == kLease);
}

TEST_CASE(
    "PreserveDeploymentConcurrencyLeaseId with PreventPendingTransitions: "
    "Pending -> Submitting keeps the lease") {
  PreserveCase t;
  const std::string p = t.c.policy(
      Json::array({"PreserveDeploymentConcurrencyLeaseId", "PreventPendingTransitions"}));
  const Json r = t.c.set(t.pending_run(), "PENDING", {"--name", "Submitting", "--policy", p});
  CHECK(status(r) == "ACCEPT");
  CHECK(lease_id_of(validated(r)) == kLease);
}

TEST_CASE("PreserveDeploymentConcurrencyLeaseId: any client version keeps the lease id") {
  PreserveCase t;
  const Json r =
      t.c.set(t.pending_run(), "RUNNING", {"--policy", t.preserve, "--client-version", "0.1.0"});
  CHECK(lease_id_of(validated(r)) == kLease);
}

// ValidateDeploymentConcurrencyAtRunning --------------------------------------------------------

TEST_CASE("ValidateDeploymentConcurrencyAtRunning: PENDING without a lease: RUNNING without one") {
  DeploymentCase d;
  const Json r = d.set(d.run("PENDING"), "RUNNING", d.validate, {"--client-version", "3.5.0"});
  CHECK(status(r) == "ACCEPT");
  CHECK(lease_id_of(validated(r)).is_null());
}

TEST_CASE("ValidateDeploymentConcurrencyAtRunning: a live lease is renewed and kept") {
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();
  d.c.now = at(1, 40);
  const Json r = d.set(id, "RUNNING", d.validate, {"--client-version", "3.5.0"});
  CHECK(status(r) == "ACCEPT");
  CHECK(lease_id_of(validated(r)) == lease);
  CHECK(d.lease_expiration(lease) == "2026-01-01T12:06:40.000000+00:00");
  CHECK(d.active() == 1);
}

TEST_CASE(
    "ValidateDeploymentConcurrencyAtRunning: "
    "a revoked lease with a free slot gets a new lease") {
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();
  d.c.cmd({"lease", "release", lease}, 0);
  CHECK(d.active() == 0);
  const Json r = d.set(id, "RUNNING", d.validate, {"--client-version", "3.5.0"});
  CHECK(status(r) == "ACCEPT");
  REQUIRE(lease_id_of(validated(r)).is_string());
  const std::string fresh = lease_id_of(validated(r)).get<std::string>();
  CHECK(fresh != lease);
  CHECK(d.active() == 1);
  const Json leases = d.c.cmd({"lease", "list"}, 0)["leases"];
  CHECK(leases[0]["id"] == fresh);
  CHECK(leases[0]["metadata"]["holder"] == Json{{"type", "flow_run"}, {"id", id}});
}

TEST_CASE(
    "ValidateDeploymentConcurrencyAtRunning: "
    "a revoked lease whose slot was taken cancels the run") {
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();
  d.c.cmd({"lease", "release", lease}, 0);
  d.pending_with_lease();  // another run takes the freed slot
  const Json r = d.set(id, "RUNNING", d.validate, {"--client-version", "3.5.0"});
  CHECK(status(r) == "REJECT");
  CHECK(reason(r) == "Deployment concurrency limit reached after lease expiry.");
  CHECK(validated(r)["type"] == "CANCELLED");
  CHECK(validated(r)["message"].get<std::string>().find("concurrency slot lost") !=
        std::string::npos);
}

TEST_CASE(
    "ValidateDeploymentConcurrencyAtRunning: "
    "an expired lease is reaped when another run takes the slot") {
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();  // expires at 12:05:00
  d.c.now = at(5, 1);
  const std::string other = d.run("SCHEDULED");
  CHECK(status(d.set(other, "PENDING", d.secure)) == "ACCEPT");  // reaps the expired lease first
  CHECK(d.active() == 1);
  CHECK_FALSE(d.c.db.open(OpenMode::kRead)->concurrency().read_lease(lease));
  const Json r = d.set(id, "RUNNING", d.validate, {"--client-version", "3.5.0"});
  CHECK(status(r) == "REJECT");
  CHECK(validated(r)["type"] == "CANCELLED");
}

TEST_CASE(
    "ValidateDeploymentConcurrencyAtRunning: "
    "an expired lease not yet reaped is still renewed") {
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();
  d.c.now = at(6);
  const Json r = d.set(id, "RUNNING", d.validate, {"--client-version", "3.5.0"});
  CHECK(status(r) == "ACCEPT");
  CHECK(lease_id_of(validated(r)) == lease);
  CHECK(d.lease_expiration(lease) == "2026-01-01T12:11:00.000000+00:00");
}

TEST_CASE(
    "ValidateDeploymentConcurrencyAtRunning: "
    "old or unknown clients' leases are not validated") {
  for (const char* client : {"3.4.10", ""}) {
    CAPTURE(client);
    DeploymentCase d;
    const auto [id, lease] = d.pending_with_lease();
    d.c.cmd({"lease", "release", lease}, 0);
    std::vector<std::string> extra;
    if (*client) extra = {"--client-version", client};
    const Json r = d.set(id, "RUNNING", d.validate, extra);
    CHECK(status(r) == "ACCEPT");
    CHECK(lease_id_of(validated(r)) == lease);
    CHECK(d.active() == 0);
  }
}

TEST_CASE(
    "ValidateDeploymentConcurrencyAtRunning: "
    "a deployment without a limit keeps even a bogus lease id") {
  DeploymentCase d(std::vector<std::string>{});
  const std::string id = d.c.flow(
      {"--deployment-id", d.deployment, "--state", "PENDING", "--details", with_lease(kLease)});
  const Json r = d.set(id, "RUNNING", d.validate, {"--client-version", "3.5.0"});
  CHECK(status(r) == "ACCEPT");
  CHECK(lease_id_of(validated(r)) == kLease);
}

TEST_CASE("an unparsable client version is a rule error") {
  DeploymentCase d;
  const auto [id, lease] = d.pending_with_lease();
  const Json r = d.set(id, "RUNNING", d.validate, {"--client-version", "not-a-version"});
  CHECK(r["_exit_code"] == 70);
  CHECK(reason(r) ==
        "Aborting orchestration due to error in "
        "ValidateDeploymentConcurrencyAtRunning: !Invalid version: 'not-a-version'");
}

// Through the built-in policies ----------------------------------------------------------------

TEST_CASE("the core flow policy: one run at a time, the lease carried to the end") {
  DeploymentCase d;
  const std::string run1 = d.run("SCHEDULED"), run2 = d.run("SCHEDULED");
  const Json pending = d.c.set(run1, "PENDING");
  CHECK(status(pending) == "ACCEPT");
  const Json lease = lease_id_of(validated(pending));
  REQUIRE(lease.is_string());
  CHECK(status(d.c.set(run2, "PENDING")) == "REJECT");
  // Workers send the lease id as null: PreserveDeploymentConcurrencyLeaseId restores it.
  const Json running =
      d.c.set(run1, "RUNNING", {"--details", with_lease(nullptr), "--client-version", "3.5.0"});
  CHECK(status(running) == "ACCEPT");
  CHECK(lease_id_of(validated(running)) == lease);
  const Json done = d.c.set(run1, "COMPLETED");
  CHECK(status(done) == "ACCEPT");
  CHECK(lease_id_of(validated(done)) == lease);  // the revoked lease's id stays on the state
  CHECK(d.active() == 0);
  CHECK(d.c.leases() == 0);
  d.c.now = at(0, 30);
  CHECK(status(d.c.set(run2, "PENDING")) == "ACCEPT");
}

TEST_CASE("an in-process retry releases the deployment slot") {
  DeploymentCase d;
  const std::string id = d.run("SCHEDULED", {"--retries", "1"});
  CHECK(status(d.c.set(id, "PENDING")) == "ACCEPT");
  CHECK(status(d.c.set(id, "RUNNING")) == "ACCEPT");
  const Json r = d.c.set(id, "FAILED");
  CHECK(status(r) == "REJECT");
  CHECK(validated(r)["name"] == "AwaitingRetry");
  CHECK(d.active() == 0);
}

TEST_CASE("a flow run of a missing deployment: Deployment not found.") {
  ConcDb c;
  // A run can only be created for a deployment that exists (issue 14, item 11); the run's
  // deployment then goes, leaving its deployment_id dangling, as Prefect allows (no command
  // deletes a deployment: the run is pointed at one that never existed).
  const std::string d = c.cmd({"deployment", "create"}, 0)["id"];
  const std::string id = c.flow({"--deployment-id", d, "--state", "SCHEDULED"});
  c.db.update_run(id, [](Run& run) { run.deployment_id = "33333333-3333-4333-8333-333333333333"; });
  const Json r = c.set(id, "PENDING");
  CHECK(status(r) == "ABORT");
  CHECK(reason(r) == "Deployment not found.");
}

TEST_CASE("workers that manage deployment concurrency themselves are not limited") {
  DeploymentCase d;
  d.pending_with_lease();
  const Json r = d.set(d.run("SCHEDULED"), "PENDING", d.secure, {"--client-version", "3.0.2"});
  CHECK(status(r) == "ACCEPT");
  CHECK(d.active() == 1);
}

TEST_CASE("an inactive deployment limit reschedules like a full one") {
  DeploymentCase d;
  d.c.cmd({"global-limit", "update", d.limit_id, "--inactive"}, 0);
  const Json r = d.set(d.run("SCHEDULED"), "PENDING", d.secure);
  CHECK(status(r) == "REJECT");
  CHECK(validated(r)["name"] == "AwaitingConcurrencySlot");
}

TEST_CASE(
    "EnforceDeploymentConcurrencyOnLate: "
    "marking a run Late cancels it when a CANCEL_NEW limit is full") {
  for (const char* strategy : {"cancel-new", "enqueue"}) {
    CAPTURE(strategy);
    DeploymentCase d({"--concurrency-limit", "1", "--collision-strategy", strategy});
    d.pending_with_lease();
    const std::string late = d.run("SCHEDULED");
    const Json r = d.c.set(late, "SCHEDULED", {"--name", "Late", "--policy", "MarkLateRunsPolicy"});
    if (std::string(strategy) == "cancel-new") {
      CHECK(status(r) == "REJECT");
      CHECK(reason(r) == "Deployment concurrency limit is full and uses the CANCEL_NEW strategy.");
      CHECK(validated(r)["type"] == "CANCELLED");
      CHECK(validated(r)["message"] == "Deployment concurrency limit reached.");
    } else {
      CHECK(status(r) == "ACCEPT");
      CHECK(validated(r)["name"] == "Late");
    }
  }
}

}  // namespace
}  // namespace runctl::clitest
