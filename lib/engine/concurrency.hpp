// What the concurrency rules and the instrumentation transform ask of the outside world: tag
// concurrency limits (V1 and V2), deployments, concurrency leases and the event sink, as
// lib/rules/concurrency.cpp and lib/rules/instrumentation.cpp use them (docs/concurrency.md). The
// store implements it (service/concurrency_services) inside the transition's own transaction;
// Services::concurrency() hands it to the rules.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/concurrency_records.hpp"
#include "engine/run.hpp"

namespace runctl {

class ConcurrencyServices {
 public:
  virtual ~ConcurrencyServices() = default;

  // Deployments and their V2 limit (by id; null when absent).
  virtual std::optional<Deployment> read_deployment(const std::string& deployment_id) = 0;
  virtual std::optional<V2Limit> read_v2_limit(const std::string& limit_id) = 0;

  // V1 limits whose tag is one of `tags`, ordered by tag.
  virtual std::vector<V1Limit> v1_limits_for_tags(const std::vector<std::string>& tags) = 0;
  virtual std::optional<V1Limit> v1_limit_by_tag(const std::string& tag) = 0;
  // Stores a V1 row's active_slots (a set: duplicates dropped).
  virtual void set_v1_active_slots(const std::string& tag,
                                   const std::vector<std::string>& active_slots) = 0;

  // V2 limits with one of these names, active or not, ordered by name.
  virtual std::vector<V2Limit> v2_limits_by_names(const std::vector<std::string>& names) = 0;
  // Prefect's bulk_increment_active_slots, all or nothing: true iff every id names an active limit
  // with room for `slots` (after decay); only then are they all incremented.
  virtual bool increment_active_slots(const std::vector<std::string>& limit_ids,
                                      std::int64_t slots) = 0;
  // Prefect's bulk_decrement_active_slots: decrements every active limit among the ids, never
  // below 0; true iff every id matched an active limit.
  virtual bool decrement_active_slots(const std::vector<std::string>& limit_ids,
                                      std::int64_t slots) = 0;

  // Lease storage: Prefect's ConcurrencyLeaseStorage (prefect.server.concurrency.lease_storage).
  virtual Lease create_lease(const std::vector<std::string>& resource_ids, double ttl_seconds,
                             std::int64_t slots, const std::optional<LeaseHolder>& holder,
                             const std::string& origin_run_id) = 0;
  virtual std::optional<Lease> read_lease(const std::string& lease_id) = 0;
  // True if the lease exists, expired or not (Prefect's in-memory storage renews a lease the
  // repossessor has not reaped yet); its expiration becomes now + ttl.
  virtual bool renew_lease(const std::string& lease_id, double ttl_seconds) = 0;
  // Idempotent.
  virtual void revoke_lease(const std::string& lease_id) = 0;
  // (lease id, holder) of every unexpired lease on this limit that records a holder.
  virtual std::vector<std::pair<std::string, LeaseHolder>> list_holders_for_limit(
      const std::string& limit_id) = 0;

  // What the flow-run event names as related resources.
  virtual std::optional<FlowInfo> read_flow(const std::string& flow_id) = 0;
  virtual std::optional<Run> read_task_run(const std::string& task_run_id) = 0;
  // Records the transition's event; it is stored with the transition's log row.
  virtual void emit_event(const Event& event) = 0;
};

}  // namespace runctl
