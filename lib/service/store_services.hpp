// The engine's Services, answered from the database inside the caller's transaction.
#pragma once
#include <memory>

#include "engine/services.hpp"
#include "service/environment.hpp"
#include "store/database.hpp"

namespace runctl {

class StoreConcurrencyServices;  // service/concurrency_services.hpp

class StoreServices final : public Services {
 public:
  // The rules read Prefect's settings from env.settings.
  StoreServices(Database& db, const Environment& env);
  ~StoreServices() override;

  ConcurrencyServices* concurrency() override;
  // The event the transition emitted, if any: written with its log row.
  std::optional<Event> take_event();

  void write_state(const Run& run, State& state) override { db_.runs().write_state(run, state); }
  std::optional<RunSnapshot> read_flow_run(const std::string& flow_run_id) override;
  StatePtr find_cached_state(const std::string& key, Timestamp now) override;
  void insert_cache_entry(const std::string& key, std::optional<Timestamp> expiration,
                          const std::string& task_run_state_id, Timestamp now) override;
  bool flow_state_timestamp_taken(const std::string& flow_run_id, Timestamp t) override;
  void force_task_run_state(const std::string& task_run_id, const State& state) override;
  std::vector<std::string> failed_task_runs(const std::string& flow_run_id) override;
  void set_task_run_count(const std::string& task_run_id, int run_count) override;
  void enqueue_task_run(const Run& task_run, const std::string& queue) override;

 private:
  Database& db_;
  const Environment& env_;
  std::unique_ptr<StoreConcurrencyServices> concurrency_;  // made on first use
};

}  // namespace runctl
