#include "service/concurrency_services.hpp"

#include <cstdlib>
#include <limits>

#include "engine/intervals.hpp"
#include "util/error.hpp"

namespace runctl {

std::optional<Deployment> StoreConcurrencyServices::read_deployment(
    const std::string& deployment_id) {
  return limits_.read_deployment(deployment_id);
}

std::optional<V2Limit> StoreConcurrencyServices::read_v2_limit(const std::string& limit_id) {
  return limits_.v2_limit_by_id(limit_id);
}

std::vector<V1Limit> StoreConcurrencyServices::v1_limits_for_tags(
    const std::vector<std::string>& tags) {
  return limits_.v1_limits_for_tags(tags);
}

std::optional<V1Limit> StoreConcurrencyServices::v1_limit_by_tag(const std::string& tag) {
  return limits_.v1_limit_by_tag(tag);
}

void StoreConcurrencyServices::set_v1_active_slots(const std::string& tag,
                                                   const std::vector<std::string>& active_slots) {
  limits_.set_v1_active_slots(tag, active_slots, env_.clock.now());
}

std::vector<V2Limit> StoreConcurrencyServices::v2_limits_by_names(
    const std::vector<std::string>& names) {
  return limits_.v2_limits_by_names(names);
}

bool StoreConcurrencyServices::increment_active_slots(const std::vector<std::string>& limit_ids,
                                                      std::int64_t slots) {
  const Timestamp now = env_.clock.now();
  limits_.reap_expired_leases(now, &limit_ids);
  return limits_.increment(limit_ids, slots, now);
}

bool StoreConcurrencyServices::decrement_active_slots(const std::vector<std::string>& limit_ids,
                                                      std::int64_t slots) {
  const Timestamp now = env_.clock.now();
  limits_.reap_expired_leases(now, &limit_ids);
  return limits_.decrement(limit_ids, slots, now);
}

Lease StoreConcurrencyServices::create_lease(const std::vector<std::string>& resource_ids,
                                             double ttl_seconds, std::int64_t slots,
                                             const std::optional<LeaseHolder>& holder,
                                             const std::string& origin_run_id) {
  Lease lease;
  lease.id = env_.uuids.next();
  lease.resource_ids = resource_ids;
  lease.created_at = env_.clock.now();
  lease.expiration = add_seconds(lease.created_at, ttl_seconds);
  lease.slots = slots;
  lease.holder = holder;
  lease.origin_run_id = origin_run_id;
  limits_.insert_lease(lease);
  return lease;
}

std::optional<Lease> StoreConcurrencyServices::read_lease(const std::string& lease_id) {
  return limits_.read_lease(lease_id);
}

bool StoreConcurrencyServices::renew_lease(const std::string& lease_id, double ttl_seconds) {
  return limits_.set_lease_expiration(lease_id, add_seconds(env_.clock.now(), ttl_seconds));
}

void StoreConcurrencyServices::revoke_lease(const std::string& lease_id) {
  limits_.delete_lease(lease_id);
}

std::vector<std::pair<std::string, LeaseHolder>> StoreConcurrencyServices::list_holders_for_limit(
    const std::string& limit_id) {
  const Timestamp now = env_.clock.now();
  std::vector<std::pair<std::string, LeaseHolder>> out;
  for (const Lease& lease : limits_.leases_for_limit(limit_id))
    if (lease.expiration > now && lease.holder) out.emplace_back(lease.id, *lease.holder);
  return out;
}

std::optional<FlowInfo> StoreConcurrencyServices::read_flow(const std::string& flow_id) {
  return limits_.read_flow(flow_id);
}

std::optional<Run> StoreConcurrencyServices::read_task_run(const std::string& task_run_id) {
  return db_.runs().load_run(RunKind::kTask, task_run_id);
}

void StoreConcurrencyServices::emit_event(const Event& event) {
  event_ = event;
}

}  // namespace runctl
