// ConcurrencyRepository over a PostgreSQL connection: limits, flows, deployments, leases, and the
// events kept in log rows (postgres_events.cpp). Where many processes may write the same row at
// once it changes it by one atomic statement (the slot counters: a conditional UPDATE checked by
// its row count, as Prefect does) or reads it FOR UPDATE first (a row read inside a write
// transaction stays locked until the transaction ends, so the caller's read-compute-write loses
// no concurrent update). A slot operation of several statements (an increment or decrement of
// several limits, a reap that finds expired leases) runs in a savepoint of the caller's
// transaction when one is open, else in a transaction of its own that it commits.
#pragma once
#include <memory>
#include <string>

#include "store/postgres/pg_connection.hpp"
#include "store/repositories.hpp"

namespace runctl::pg {

class PostgresConcurrency final : public ConcurrencyRepository {
 public:
  PostgresConcurrency(Connection& conn, int busy_timeout_ms);
  ~PostgresConcurrency() override;

  V1Limit upsert_v1_limit(const std::string& new_id, const std::string& tag, std::int64_t limit,
                          Timestamp now) override;
  std::optional<V1Limit> v1_limit_by_tag(const std::string& tag) override;
  std::vector<V1Limit> v1_limits_for_tags(const std::vector<std::string>& tags) override;
  std::vector<V1Limit> list_v1_limits() override;
  bool set_v1_active_slots(const std::string& tag, const std::vector<std::string>& slots,
                           Timestamp now) override;
  bool delete_v1_limit(const std::string& tag) override;

  void insert_v2_limit(const V2Limit& limit) override;
  bool update_v2_limit(const V2Limit& limit) override;
  std::optional<V2Limit> v2_limit_by_id(const std::string& id) override;
  std::optional<V2Limit> v2_limit_by_name(const std::string& name) override;
  std::vector<V2Limit> v2_limits_by_names(const std::vector<std::string>& names) override;
  std::vector<V2Limit> list_v2_limits() override;
  bool delete_v2_limit(const std::string& id) override;
  bool increment(const std::vector<std::string>& ids, std::int64_t slots, Timestamp now) override;
  bool decrement(const std::vector<std::string>& ids, std::int64_t slots, Timestamp now,
                 std::optional<double> occupancy_seconds = std::nullopt) override;

  FlowInfo ensure_flow(const std::string& new_id, const std::string& name, Timestamp now) override;
  std::optional<FlowInfo> read_flow(const std::string& id) override;
  void insert_deployment(const Deployment& deployment) override;
  std::optional<Deployment> read_deployment(const std::string& id) override;
  std::vector<Deployment> list_deployments() override;
  RefMatches match_deployments(const RefQuery& query, int limit) override;

  void insert_lease(const Lease& lease) override;
  std::optional<Lease> read_lease(const std::string& id) override;
  RefMatches match_leases(const std::string& id_prefix, int limit) override;
  bool set_lease_expiration(const std::string& id, Timestamp expiration) override;
  bool delete_lease(const std::string& id) override;
  std::vector<Lease> leases_for_limit(const std::string& limit_id) override;
  std::vector<Lease> list_leases() override;
  std::vector<Lease> expired_leases(Timestamp now,
                                    const std::vector<std::string>* limit_ids = nullptr) override;
  std::vector<Lease> reap_expired_leases(
      Timestamp now, const std::vector<std::string>* limit_ids = nullptr) override;

  // postgres_events.cpp
  std::vector<Event> list_events(const std::optional<std::string>& resource_id,
                                 std::int64_t after_seq = 0,
                                 std::optional<std::int64_t> max_count = std::nullopt,
                                 std::optional<Timestamp> since = std::nullopt) override;
  std::int64_t newest_events_cursor(const std::optional<std::string>& resource_id,
                                    std::int64_t newest, std::optional<Timestamp> since) override;

 private:
  // " FOR UPDATE" inside a write transaction, else nothing (a read command locks nothing).
  const char* lock_clause() const;

  Connection& conn_;
  int busy_timeout_ms_;  // how long list_events waits out a transaction that may hold a gap
};

}  // namespace runctl::pg
