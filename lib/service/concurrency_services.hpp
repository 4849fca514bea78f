// ConcurrencyServices over the database, inside the caller's transaction: limits, leases and
// events change together with the run, so a rolled-back transition leaks no slot, lease or event
// (Prefect takes leases and V2 tag slots outside its transaction; docs/deviations.md,
// "Concurrency limits, leases, deployments and events").
#pragma once
#include <utility>

#include "engine/concurrency.hpp"
#include "engine/services.hpp"
#include "service/store_services.hpp"
#include "store/database.hpp"

namespace runctl {

class StoreConcurrencyServices final : public ConcurrencyServices {
 public:
  StoreConcurrencyServices(Database& db, const Environment& env)
      : db_(db), env_(env), limits_(db.concurrency()) {}

  std::optional<Deployment> read_deployment(const std::string& deployment_id) override;
  std::optional<V2Limit> read_v2_limit(const std::string& limit_id) override;

  std::vector<V1Limit> v1_limits_for_tags(const std::vector<std::string>& tags) override;
  std::optional<V1Limit> v1_limit_by_tag(const std::string& tag) override;
  void set_v1_active_slots(const std::string& tag,
                           const std::vector<std::string>& active_slots) override;

  std::vector<V2Limit> v2_limits_by_names(const std::vector<std::string>& names) override;
  // Both reap the expired leases of these limits first: a write that touches a limit frees what
  // Prefect's repossessor would have freed by then.
  bool increment_active_slots(const std::vector<std::string>& limit_ids,
                              std::int64_t slots) override;
  bool decrement_active_slots(const std::vector<std::string>& limit_ids,
                              std::int64_t slots) override;

  Lease create_lease(const std::vector<std::string>& resource_ids, double ttl_seconds,
                     std::int64_t slots, const std::optional<LeaseHolder>& holder,
                     const std::string& origin_run_id) override;
  std::optional<Lease> read_lease(const std::string& lease_id) override;
  bool renew_lease(const std::string& lease_id, double ttl_seconds) override;
  void revoke_lease(const std::string& lease_id) override;
  std::vector<std::pair<std::string, LeaseHolder>> list_holders_for_limit(
      const std::string& limit_id) override;

  std::optional<FlowInfo> read_flow(const std::string& flow_id) override;
  std::optional<Run> read_task_run(const std::string& task_run_id) override;
  // Kept for the transition's log row, which stores it (LogEntry::event): a transition emits
  // at most one event (InstrumentFlowRunStateTransitions' after hook).
  void emit_event(const Event& event) override;
  std::optional<Event> take_event() { return std::exchange(event_, std::nullopt); }

 private:
  Database& db_;
  const Environment& env_;
  ConcurrencyRepository& limits_;
  std::optional<Event> event_;
};


}  // namespace runctl
