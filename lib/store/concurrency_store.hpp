// Concurrency limits, flows, deployments, leases and events in the SQLite file (schema 003): a
// class of its own over the Store's connection, with its own cached statements. It never opens a
// transaction: callers hold one (a transition's BEGIN IMMEDIATE, or a command's own). SQLite
// errors leave it as runctl::Error, as they leave Store.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/concurrency.hpp"
#include "store/store.hpp"

namespace runctl {

class ConcurrencyStore final {
 public:
  explicit ConcurrencyStore(Store& store);
  ~ConcurrencyStore();
  ConcurrencyStore(const ConcurrencyStore&) = delete;
  ConcurrencyStore& operator=(const ConcurrencyStore&) = delete;

  // --- V1 tag limits -------------------------------------------------------------------------
  // Prefect's create is an upsert on the tag: an existing row keeps its id and active slots and
  // takes the new limit. Returns the row as stored.
  V1Limit upsert_v1_limit(const std::string& new_id, const std::string& tag, std::int64_t limit,
                          Timestamp now);
  std::optional<V1Limit> v1_limit_by_tag(const std::string& tag);
  std::vector<V1Limit> v1_limits_for_tags(const std::vector<std::string>& tags);  // by tag
  std::vector<V1Limit> list_v1_limits();                                          // by tag
  // Stores the set (sorted, duplicates dropped). False if there is no such tag.
  bool set_v1_active_slots(const std::string& tag, const std::vector<std::string>& slots,
                           Timestamp now);
  bool delete_v1_limit(const std::string& tag);

  // --- V2 limits -----------------------------------------------------------------------------
  // Throws Error(kBadData) when the name is taken.
  void insert_v2_limit(const V2Limit& limit);
  // Writes every column of the row with this id; false if there is none. Name clash: kBadData.
  bool update_v2_limit(const V2Limit& limit);
  std::optional<V2Limit> v2_limit_by_id(const std::string& id);
  std::optional<V2Limit> v2_limit_by_name(const std::string& name);
  std::vector<V2Limit> v2_limits_by_names(const std::vector<std::string>& names);  // by name
  std::vector<V2Limit> list_v2_limits();                                           // by name
  bool delete_v2_limit(const std::string& id);

  // Appendix C.2 slot arithmetic, with decay measured from each row's `updated` to `now`.
  // Increment is all or nothing (see ConcurrencyServices). Decrement updates every active row
  // among the ids and reports whether all of them were; `occupancy_seconds` (the reaper's) moves
  // avg_slot_occupancy_seconds as Prefect's repossessor does.
  bool increment(const std::vector<std::string>& ids, std::int64_t slots, Timestamp now);
  bool decrement(const std::vector<std::string>& ids, std::int64_t slots, Timestamp now,
                 std::optional<double> occupancy_seconds = std::nullopt);

  // --- Flows and deployments -----------------------------------------------------------------
  // The flow of this name, created with `new_id` if missing.
  FlowInfo ensure_flow(const std::string& new_id, const std::string& name, Timestamp now);
  std::optional<FlowInfo> read_flow(const std::string& id);
  // Throws Error(kBadData) when the flow already has a deployment of that name.
  void insert_deployment(const Deployment& deployment);
  std::optional<Deployment> read_deployment(const std::string& id);
  std::vector<Deployment> list_deployments();  // by creation

  // --- Leases --------------------------------------------------------------------------------
  void insert_lease(const Lease& lease);
  std::optional<Lease> read_lease(const std::string& id);
  bool set_lease_expiration(const std::string& id, Timestamp expiration);
  bool delete_lease(const std::string& id);
  std::vector<Lease> leases_for_limit(const std::string& limit_id);  // expired included
  std::vector<Lease> list_leases();                                  // by expiration
  // Leases with expiration < now (Prefect's read_expired_lease_ids), on any of `limit_ids` when
  // given, by expiration.
  std::vector<Lease> expired_leases(Timestamp now,
                                    const std::vector<std::string>* limit_ids = nullptr);
  // What Prefect's repossessor does to each expired lease: decrement its limits by its slots
  // (with the occupancy since it was created), then revoke it. A failed decrement (limit deleted
  // or inactive) does not stop the revocation, as in Prefect. Returns the reaped leases.
  std::vector<Lease> reap_expired_leases(Timestamp now,
                                         const std::vector<std::string>* limit_ids = nullptr);

  // --- Events --------------------------------------------------------------------------------
  // Events are written with their transition's log row (LogEntry::event, Store::insert_log).
  // Events with seq > after_seq, oldest first; only those of `resource_id` when given.
  std::vector<Event> list_events(const std::optional<std::string>& resource_id,
                                 std::int64_t after_seq = 0,
                                 std::optional<std::int64_t> max_count = std::nullopt);

 private:
  struct Statements;  // concurrency_store.cpp

  Store& store_;
  Statements* stmts_;  // owned by the Store: see Store::extension_statements()
};

}  // namespace runctl
