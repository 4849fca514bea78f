// The engine's Services, answered from the SQLite store inside the caller's transaction.
#pragma once
#include <memory>

#include "engine/services.hpp"
#include "store/store.hpp"
#include "util/random.hpp"
#include "util/time.hpp"
#include "util/uuid.hpp"

namespace runctl {

// What an orchestration needs from outside, injected so tests are exact.
struct Environment {
  const Clock& clock;
  UuidGenerator& uuids;
  RandomSource& random;
};

class StoreConcurrencyServices;  // service/concurrency_services.hpp

class StoreServices final : public Services {
 public:
  // Reads Prefect's settings from the environment (read_settings_from_environment).
  StoreServices(Store& store, const Environment& env);
  ~StoreServices() override;

  ConcurrencyServices* concurrency() override;
  // The event the transition emitted, if any: written with its log row.
  std::optional<Event> take_event();

  void write_state(const Run& run, State& state) override { store_.write_state(run, state); }
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
  Store& store_;
  const Environment& env_;
  std::unique_ptr<StoreConcurrencyServices> concurrency_;  // made on first use
};

}  // namespace runctl
