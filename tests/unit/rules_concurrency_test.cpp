// The concurrency rules (lib/rules/concurrency.cpp) at engine level, against an in-memory
// ConcurrencyServices, after Prefect's TestTaskConcurrencyLimits, TestTaskConcurrencyLimitsV2 and
// the deployment concurrency tests of TestFlowConcurrencyLimits
// (tests/server/orchestration/test_core_policy.py). The store's side of the same operations
// (atomic increments, lease reaping) is tested in concurrency_store_test.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "engine/concurrency.hpp"

#include "rule_services_fixture.hpp"

namespace runctl::testing {
namespace {

const std::vector<std::string> kSecureTask = {"SecureTaskConcurrencySlots"};
const std::vector<std::string> kTaskSlots = {"SecureTaskConcurrencySlots",
                                             "ReleaseTaskConcurrencySlots"};
const std::vector<std::string> kSecureFlow = {"SecureFlowConcurrencySlots"};

// Limits, deployments and leases in memory, with the store's contract (engine/concurrency.hpp):
// increments are all or nothing, decrements never go below 0. No decay.
class MemoryConcurrency final : public ConcurrencyServices {
 public:
  std::map<std::string, V1Limit> v1;  // by tag
  std::map<std::string, V2Limit> v2;  // by id
  std::map<std::string, Deployment> deployments;
  std::map<std::string, Lease> leases;
  std::vector<std::string> revoked;
  std::vector<std::string> renewed;
  bool renew_succeeds = true;

  void add_v1(const std::string& tag, std::int64_t limit) {
    v1[tag] = V1Limit{.id = "v1-" + tag, .tag = tag, .limit = limit};
  }
  V2Limit& add_v2(const std::string& name, std::int64_t limit) {
    const std::string id = "v2-" + name;
    v2[id] = V2Limit{.id = id, .name = name, .limit = limit};
    return v2[id];
  }
  void add_deployment(const std::string& id, std::optional<std::string> limit_id,
                      std::optional<CollisionStrategy> strategy = std::nullopt) {
    Deployment d{.id = id, .name = id, .flow_id = "flow", .concurrency_limit_id = limit_id};
    if (strategy) d.concurrency_options = ConcurrencyOptions{.collision_strategy = *strategy};
    deployments[id] = d;
  }

  std::optional<Deployment> read_deployment(const std::string& id) override {
    return find(deployments, id);
  }
  std::optional<V2Limit> read_v2_limit(const std::string& id) override { return find(v2, id); }
  std::vector<V1Limit> v1_limits_for_tags(const std::vector<std::string>& tags) override {
    std::vector<V1Limit> out;
    for (const auto& [tag, limit] : v1)  // a map: in tag order, as the store returns them
      if (std::find(tags.begin(), tags.end(), tag) != tags.end()) out.push_back(limit);
    return out;
  }
  std::optional<V1Limit> v1_limit_by_tag(const std::string& tag) override { return find(v1, tag); }
  void set_v1_active_slots(const std::string& tag,
                           const std::vector<std::string>& active_slots) override {
    std::set<std::string> unique(active_slots.begin(), active_slots.end());
    v1.at(tag).active_slots.assign(unique.begin(), unique.end());
  }
  std::vector<V2Limit> v2_limits_by_names(const std::vector<std::string>& names) override {
    std::vector<V2Limit> out;
    for (const auto& [id, limit] : v2)
      if (std::find(names.begin(), names.end(), limit.name) != names.end()) out.push_back(limit);
    std::sort(out.begin(), out.end(),
              [](const V2Limit& a, const V2Limit& b) { return a.name < b.name; });
    return out;
  }
  bool increment_active_slots(const std::vector<std::string>& ids, std::int64_t slots) override {
    for (const auto& id : ids) {
      auto it = v2.find(id);
      if (it == v2.end() || !it->second.active ||
          it->second.active_slots + slots > it->second.limit)
        return false;
    }
    for (const auto& id : ids) v2.at(id).active_slots += slots;
    return true;
  }
  bool decrement_active_slots(const std::vector<std::string>& ids, std::int64_t slots) override {
    bool all = true;
    for (const auto& id : ids) {
      auto it = v2.find(id);
      if (it == v2.end() || !it->second.active) {
        all = false;
        continue;
      }
      it->second.active_slots = std::max<std::int64_t>(0, it->second.active_slots - slots);
    }
    return all;
  }
  Lease create_lease(const std::vector<std::string>& ids, double ttl, std::int64_t slots,
                     const std::optional<LeaseHolder>& holder,
                     const std::string& origin_run_id) override {
    Lease l{.id = "lease-" + std::to_string(leases.size() + revoked.size() + 1),
            .resource_ids = ids,
            .expiration = static_cast<Timestamp>(ttl * kMicrosPerSecond),
            .slots = slots,
            .holder = holder,
            .origin_run_id = origin_run_id};
    leases[l.id] = l;
    return l;
  }
  std::optional<Lease> read_lease(const std::string& id) override { return find(leases, id); }
  bool renew_lease(const std::string& id, double) override {
    renewed.push_back(id);
    return renew_succeeds && leases.count(id) > 0;
  }
  void revoke_lease(const std::string& id) override {
    if (leases.erase(id)) revoked.push_back(id);
  }
  std::vector<std::pair<std::string, LeaseHolder>> list_holders_for_limit(
      const std::string& limit_id) override {
    std::vector<std::pair<std::string, LeaseHolder>> out;
    for (const auto& [id, l] : leases)
      if (l.holder &&
          std::find(l.resource_ids.begin(), l.resource_ids.end(), limit_id) != l.resource_ids.end())
        out.push_back({id, *l.holder});
    return out;
  }
  std::optional<FlowInfo> read_flow(const std::string&) override { return std::nullopt; }
  std::optional<Run> read_task_run(const std::string&) override { return std::nullopt; }
  void emit_event(const Event&) override {}

 private:
  template <typename Map>
  static std::optional<typename Map::mapped_type> find(const Map& m, const std::string& key) {
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
};

// Services shared by every run of a test, as one database is.
struct World {
  MemoryConcurrency limits;
  std::shared_ptr<RuleFakeServices> services = std::make_shared<RuleFakeServices>();
  World() { services->concurrency_port = &limits; }
};

// A task run tagged `tags` proposing initial -> proposed.
std::unique_ptr<RuleHarness> task_run(World& w, MaybeType initial, StateType proposed,
                                      std::vector<std::string> tags) {
  auto h = std::make_unique<RuleHarness>(initial, proposed, RunKind::kTask, w.services);
  h->run.tags = std::move(tags);
  return h;
}

// A flow run of deployment "d1" proposing initial -> proposed.
std::unique_ptr<RuleHarness> flow_run(World& w, MaybeType initial, StateType proposed,
                                      std::optional<std::string> name = std::nullopt) {
  auto h = std::make_unique<RuleHarness>(initial, proposed, RunKind::kFlow, w.services);
  h->run.deployment_id = "d1";
  if (name) h->ctx.proposed_state = h->state(proposed, kNow, name);
  return h;
}

// A rule after the concurrency rule that rejects every proposal into a Scheduled state.
PolicyEntry rejector() {
  auto r = make_rule("Rejector");
  r->on_before = [](RuleHook& hook) {
    hook.reject_transition(hook.new_state(proposal(kScheduled)), "rejected later");
  };
  return entry(r);
}

TEST_CASE("SecureTaskConcurrencySlots: a V1 tag limit admits `limit` runs, then WAITs") {
  World w;
  w.limits.add_v1("db", 2);
  auto a = task_run(w, kPending, kRunning, {"db"});
  auto b = task_run(w, kPending, kRunning, {"db"});
  auto c = task_run(w, kPending, kRunning, {"db"});
  a->run_rules(kSecureTask);
  b->run_rules(kSecureTask);
  c->run_rules(kSecureTask);
  CHECK(a->status() == "ACCEPT");
  CHECK(b->status() == "ACCEPT");
  CHECK(c->status() == "WAIT");
  CHECK(c->reason() == "Concurrency limit for the db tag has been reached");
  CHECK(c->ctx.response_details.delay_seconds == 10);
  CHECK(w.limits.v1.at("db").active_slots.size() == 2);
}

TEST_CASE("SecureTaskConcurrencySlots: the wait is the tag_concurrency_slot_wait_seconds setting") {
  World w;
  w.services->mutable_settings().tag_concurrency_slot_wait_seconds = 3;
  w.limits.add_v1("db", 1);
  task_run(w, kPending, kRunning, {"db"})->run_rules(kSecureTask);
  auto late = task_run(w, kPending, kRunning, {"db"});
  late->run_rules(kSecureTask);
  CHECK(late->status() == "WAIT");
  CHECK(late->ctx.response_details.delay_seconds == 3);
}

TEST_CASE("SecureTaskConcurrencySlots: a V1 limit of 0 aborts: it would deadlock") {
  World w;
  w.limits.add_v1("never", 0);
  auto h = task_run(w, kPending, kRunning, {"never"});
  h->run_rules(kSecureTask);
  CHECK(h->status() == "ABORT");
  CHECK(h->reason() ==
        "The concurrency limit on tag \"never\" is 0 and will deadlock if the task tries to run "
        "again.");
  CHECK(w.limits.v1.at("never").active_slots.empty());
}

TEST_CASE("SecureTaskConcurrencySlots: a full tag gives back the slots of the tags before it") {
  World w;
  w.limits.add_v1("a", 5);
  w.limits.add_v1("b", 1);
  task_run(w, kPending, kRunning, {"b"})->run_rules(kSecureTask);  // fills "b"
  auto h = task_run(w, kPending, kRunning, {"a", "b"});
  h->run_rules(kSecureTask);
  CHECK(h->status() == "WAIT");
  CHECK(h->reason() == "Concurrency limit for the b tag has been reached");
  CHECK(w.limits.v1.at("a").active_slots.empty());
  CHECK(w.limits.v1.at("b").active_slots.size() == 1);
}

TEST_CASE("SecureTaskConcurrencySlots: untagged runs and runs whose tags have no limit pass") {
  World w;
  w.limits.add_v1("db", 0);
  auto untagged = task_run(w, kPending, kRunning, {});
  auto other = task_run(w, kPending, kRunning, {"web"});
  untagged->run_rules(kSecureTask);
  other->run_rules(kSecureTask);
  CHECK(untagged->status() == "ACCEPT");
  CHECK(other->status() == "ACCEPT");
}

TEST_CASE("ReleaseTaskConcurrencySlots: a finished run frees its V1 slot for the next") {
  World w;
  w.limits.add_v1("db", 1);
  auto first = task_run(w, kPending, kRunning, {"db"});
  first->run_rules(kTaskSlots);
  REQUIRE(first->status() == "ACCEPT");
  auto waiting = task_run(w, kPending, kRunning, {"db"});
  waiting->run_rules(kTaskSlots);
  REQUIRE(waiting->status() == "WAIT");

  RuleHarness done(kRunning, kCompleted, RunKind::kTask, w.services);
  done.run.id = first->run.id;
  done.run.tags = {"db"};
  done.run_rules(kTaskSlots);
  CHECK(done.status() == "ACCEPT");
  CHECK(w.limits.v1.at("db").active_slots.empty());

  auto again = task_run(w, kPending, kRunning, {"db"});
  again->run_rules(kTaskSlots);
  CHECK(again->status() == "ACCEPT");
}

TEST_CASE("ReleaseTaskConcurrencySlots: RUNNING -> RUNNING keeps the slot") {
  World w;
  w.limits.add_v1("db", 1);
  auto h = task_run(w, kPending, kRunning, {"db"});
  h->run_rules(kTaskSlots);
  RuleHarness again(kRunning, kRunning, RunKind::kTask, w.services);
  again.run.id = h->run.id;
  again.run.tags = {"db"};
  again.run_rules({"ReleaseTaskConcurrencySlots"});
  CHECK(w.limits.v1.at("db").active_slots == std::vector<std::string>{h->run.id});
}

TEST_CASE("SecureTaskConcurrencySlots: a V2 tag limit takes a slot with a lease the run holds") {
  World w;
  w.limits.add_v2("tag:db", 1);
  auto h = task_run(w, kPending, kRunning, {"db"});
  h->run_rules(kSecureTask);
  CHECK(h->status() == "ACCEPT");
  CHECK(w.limits.v2.at("v2-tag:db").active_slots == 1);
  REQUIRE(w.limits.leases.size() == 1);
  const Lease& lease = w.limits.leases.begin()->second;
  CHECK(lease.resource_ids == std::vector<std::string>{"v2-tag:db"});
  REQUIRE(lease.holder);
  CHECK(lease.holder->type == "task_run");
  CHECK(lease.holder->id == h->run.id);

  auto full = task_run(w, kPending, kRunning, {"db"});
  full->run_rules(kSecureTask);
  CHECK(full->status() == "WAIT");
  CHECK(full->reason() == "Concurrency limit reached for tags: db");
  CHECK(w.limits.v2.at("v2-tag:db").active_slots == 1);
}

TEST_CASE("ReleaseTaskConcurrencySlots: a finished run revokes its V2 lease and frees the slot") {
  World w;
  w.limits.add_v2("tag:db", 1);
  auto h = task_run(w, kPending, kRunning, {"db"});
  h->run_rules(kTaskSlots);
  RuleHarness done(kRunning, kCompleted, RunKind::kTask, w.services);
  done.run.id = h->run.id;
  done.run.tags = {"db"};
  done.run_rules(kTaskSlots);
  CHECK(w.limits.leases.empty());
  CHECK(w.limits.revoked.size() == 1);
  CHECK(w.limits.v2.at("v2-tag:db").active_slots == 0);
}

TEST_CASE("SecureTaskConcurrencySlots: an active V2 limit shadows the V1 limit of its tag") {
  World w;
  w.limits.add_v1("db", 1);
  w.limits.v1.at("db").active_slots = {"someone-else"};  // full under V1
  w.limits.add_v2("tag:db", 2);
  auto h = task_run(w, kPending, kRunning, {"db"});
  h->run_rules(kSecureTask);
  CHECK(h->status() == "ACCEPT");
  CHECK(w.limits.v2.at("v2-tag:db").active_slots == 1);
  CHECK(w.limits.v1.at("db").active_slots == std::vector<std::string>{"someone-else"});
}

TEST_CASE("SecureTaskConcurrencySlots: an inactive V2 limit neither counts nor shadows") {
  World w;
  w.limits.add_v1("db", 1);
  w.limits.v1.at("db").active_slots = {"someone-else"};
  w.limits.add_v2("tag:db", 5).active = false;
  auto h = task_run(w, kPending, kRunning, {"db"});
  h->run_rules(kSecureTask);
  CHECK(h->status() == "WAIT");
  CHECK(h->reason() == "Concurrency limit for the db tag has been reached");
  CHECK(w.limits.v2.at("v2-tag:db").active_slots == 0);
}

TEST_CASE("SecureTaskConcurrencySlots: a V2 tag limit of 0 aborts") {
  World w;
  w.limits.add_v2("tag:db", 0);
  auto h = task_run(w, kPending, kRunning, {"db"});
  h->run_rules(kSecureTask);
  CHECK(h->status() == "ABORT");
  CHECK(h->reason() ==
        "The concurrency limit on tag \"db\" is 0 and will deadlock if the task tries to run "
        "again.");
}

TEST_CASE("SecureTaskConcurrencySlots: a later rule's rejection gives the slots back") {
  World w;
  w.limits.add_v1("a", 1);
  w.limits.add_v2("tag:b", 1);
  auto h = task_run(w, kPending, kRunning, {"a", "b"});
  h->run_rules(kSecureTask, {rejector()});
  CHECK(h->status() == "REJECT");
  CHECK(w.limits.v1.at("a").active_slots.empty());
  CHECK(w.limits.v2.at("v2-tag:b").active_slots == 0);
  CHECK(w.limits.leases.empty());
}

TEST_CASE("SecureFlowConcurrencySlots: entering PENDING takes the deployment's slot") {
  World w;
  w.limits.add_v2("deployment:d1", 1);
  w.limits.add_deployment("d1", "v2-deployment:d1");
  auto h = flow_run(w, kScheduled, kPending);
  h->run_rules(kSecureFlow);
  CHECK(h->status() == "ACCEPT");
  CHECK(w.limits.v2.at("v2-deployment:d1").active_slots == 1);
  REQUIRE(w.limits.leases.size() == 1);
  const Lease& lease = w.limits.leases.begin()->second;
  CHECK_FALSE(lease.holder);  // Prefect records no holder for a deployment slot
  CHECK(lease.origin_run_id == h->run.id);
  CHECK(lease.expiration == 300 * kSecond);  // initial_deployment_lease_duration
  CHECK(h->ctx.validated_state->details->deployment_concurrency_lease_id == lease.id);
}

TEST_CASE(
    "SecureFlowConcurrencySlots: a full limit with ENQUEUE rejects into "
    "AwaitingConcurrencySlot") {
  World w;
  w.limits.add_v2("deployment:d1", 1).active_slots = 1;
  w.limits.add_deployment("d1", "v2-deployment:d1");
  auto h = flow_run(w, kScheduled, kPending);
  h->run_rules(kSecureFlow);
  CHECK(h->status() == "REJECT");
  CHECK(h->reason() == "Deployment concurrency limit reached.");
  REQUIRE(h->ctx.validated_state);
  CHECK(h->ctx.validated_state->type == kScheduled);
  CHECK(h->ctx.validated_state->name == "AwaitingConcurrencySlot");
  CHECK(h->ctx.validated_state->details->scheduled_time == kNow + 30 * kSecond);
}

TEST_CASE("SecureFlowConcurrencySlots: a full limit with CANCEL_NEW rejects into CANCELLED") {
  World w;
  w.limits.add_v2("deployment:d1", 1).active_slots = 1;
  w.limits.add_deployment("d1", "v2-deployment:d1", CollisionStrategy::kCancelNew);
  auto h = flow_run(w, kScheduled, kPending);
  h->run_rules(kSecureFlow);
  CHECK(h->status() == "REJECT");
  REQUIRE(h->ctx.validated_state);
  CHECK(h->ctx.validated_state->type == StateType::kCancelled);
  CHECK(h->ctx.validated_state->message == "Deployment concurrency limit reached.");
}

TEST_CASE("SecureFlowConcurrencySlots: a limit of 0 and a missing deployment abort") {
  World w;
  w.limits.add_v2("deployment:d1", 0);
  w.limits.add_deployment("d1", "v2-deployment:d1");
  auto zero = flow_run(w, kScheduled, kPending);
  zero->run_rules(kSecureFlow);
  CHECK(zero->status() == "ABORT");
  CHECK(zero->reason() ==
        "The deployment concurrency limit is 0. The flow will deadlock if submitted again.");

  w.limits.deployments.clear();
  auto missing = flow_run(w, kScheduled, kPending);
  missing->run_rules(kSecureFlow);
  CHECK(missing->status() == "ABORT");
  CHECK(missing->reason() == "Deployment not found.");
}

TEST_CASE("SecureFlowConcurrencySlots: workers that manage deployment concurrency are left alone") {
  World w;
  w.limits.add_v2("deployment:d1", 1).active_slots = 1;
  w.limits.add_deployment("d1", "v2-deployment:d1");
  auto h = flow_run(w, kScheduled, kPending);
  h->ctx.client_version = "3.0.2";
  h->run_rules(kSecureFlow);
  CHECK(h->status() == "ACCEPT");
  CHECK(w.limits.v2.at("v2-deployment:d1").active_slots == 1);
}

TEST_CASE("SecureFlowConcurrencySlots: a later rule's rejection releases the slot and the lease") {
  World w;
  w.limits.add_v2("deployment:d1", 1);
  w.limits.add_deployment("d1", "v2-deployment:d1");
  auto h = flow_run(w, kScheduled, kPending);
  h->run_rules(kSecureFlow, {rejector()});
  CHECK(h->status() == "REJECT");
  CHECK(w.limits.v2.at("v2-deployment:d1").active_slots == 0);
  CHECK(w.limits.leases.empty());
}

TEST_CASE("ReleaseFlowConcurrencySlots: leaving RUNNING releases the slot through the lease") {
  World w;
  w.limits.add_v2("deployment:d1", 1);
  w.limits.add_deployment("d1", "v2-deployment:d1");
  auto pending = flow_run(w, kScheduled, kPending);
  pending->run_rules(kSecureFlow);
  const auto lease_id = pending->ctx.validated_state->details->deployment_concurrency_lease_id;
  REQUIRE(lease_id);

  auto done = flow_run(w, kRunning, kCompleted);
  done->ctx.initial_state->details->deployment_concurrency_lease_id = lease_id;
  done->run_rules({"ReleaseFlowConcurrencySlots"});
  CHECK(w.limits.revoked == std::vector<std::string>{*lease_id});
  CHECK(w.limits.v2.at("v2-deployment:d1").active_slots == 0);
}

TEST_CASE("ReleaseFlowConcurrencySlots: without a lease the deployment's limit is decremented") {
  World w;
  w.limits.add_v2("deployment:d1", 2).active_slots = 2;
  w.limits.add_deployment("d1", "v2-deployment:d1");
  auto done = flow_run(w, kRunning, kCompleted);
  done->run_rules({"ReleaseFlowConcurrencySlots"});
  CHECK(w.limits.v2.at("v2-deployment:d1").active_slots == 1);

  auto still_running = flow_run(w, kPending, kRunning);
  still_running->run_rules({"ReleaseFlowConcurrencySlots"});
  CHECK(w.limits.v2.at("v2-deployment:d1").active_slots == 1);
}

TEST_CASE("EnforceDeploymentConcurrencyOnLate: Late on a full CANCEL_NEW deployment cancels") {
  World w;
  w.limits.add_v2("deployment:d1", 1).active_slots = 1;
  w.limits.add_deployment("d1", "v2-deployment:d1", CollisionStrategy::kCancelNew);
  auto h = flow_run(w, kScheduled, kScheduled, "Late");
  h->run_rules({"EnforceDeploymentConcurrencyOnLate"});
  CHECK(h->status() == "REJECT");
  CHECK(h->reason() == "Deployment concurrency limit is full and uses the CANCEL_NEW strategy.");
  CHECK(h->ctx.validated_state->type == StateType::kCancelled);

  w.limits.v2.at("v2-deployment:d1").active_slots = 0;
  auto room = flow_run(w, kScheduled, kScheduled, "Late");
  room->run_rules({"EnforceDeploymentConcurrencyOnLate"});
  CHECK(room->status() == "ACCEPT");
}

TEST_CASE("ValidateDeploymentConcurrencyAtRunning: a live lease is renewed and kept") {
  World w;
  w.limits.add_v2("deployment:d1", 1).active_slots = 1;
  w.limits.add_deployment("d1", "v2-deployment:d1");
  const Lease lease = w.limits.create_lease({"v2-deployment:d1"}, 300, 1, std::nullopt, "x");
  auto h = flow_run(w, kPending, kRunning);
  h->ctx.client_version = "3.4.11";
  h->ctx.initial_state->details->deployment_concurrency_lease_id = lease.id;
  h->run_rules({"ValidateDeploymentConcurrencyAtRunning"});
  CHECK(h->status() == "ACCEPT");
  CHECK(w.limits.renewed == std::vector<std::string>{lease.id});
  CHECK(h->ctx.validated_state->details->deployment_concurrency_lease_id == lease.id);
}

TEST_CASE("ValidateDeploymentConcurrencyAtRunning: a reaped lease with no free slot cancels") {
  World w;
  w.limits.add_v2("deployment:d1", 1).active_slots = 1;
  w.limits.add_deployment("d1", "v2-deployment:d1");
  auto h = flow_run(w, kPending, kRunning);
  h->ctx.client_version = "3.5.0";
  h->ctx.initial_state->details->deployment_concurrency_lease_id = "reaped";
  h->run_rules({"ValidateDeploymentConcurrencyAtRunning"});
  CHECK(h->status() == "REJECT");
  CHECK(h->reason() == "Deployment concurrency limit reached after lease expiry.");
  CHECK(h->ctx.validated_state->type == StateType::kCancelled);

  // Older clients never renew, so their lease is not checked at all.
  auto old = flow_run(w, kPending, kRunning);
  old->ctx.client_version = "3.4.10";
  old->ctx.initial_state->details->deployment_concurrency_lease_id = "reaped";
  old->run_rules({"ValidateDeploymentConcurrencyAtRunning"});
  CHECK(old->status() == "ACCEPT");
}

TEST_CASE("ValidateDeploymentConcurrencyAtRunning: a reaped lease takes a free slot again") {
  World w;
  w.limits.add_v2("deployment:d1", 1);
  w.limits.add_deployment("d1", "v2-deployment:d1");
  auto h = flow_run(w, kPending, kRunning);
  h->ctx.client_version = "3.5.0";
  h->ctx.initial_state->details->deployment_concurrency_lease_id = "reaped";
  h->run_rules({"ValidateDeploymentConcurrencyAtRunning"});
  CHECK(h->status() == "ACCEPT");
  CHECK(w.limits.v2.at("v2-deployment:d1").active_slots == 1);
  REQUIRE(w.limits.leases.size() == 1);
  const Lease& lease = w.limits.leases.begin()->second;
  REQUIRE(lease.holder);
  CHECK(lease.holder->type == "flow_run");
  CHECK(h->ctx.validated_state->details->deployment_concurrency_lease_id == lease.id);
}

}  // namespace
}  // namespace runctl::testing
