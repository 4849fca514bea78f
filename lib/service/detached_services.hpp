// The engine's Services for a run orchestrated on its own, outside any database (policy
// matrix): no other runs but an optional enclosing flow run, no cache entries, no task queue, no
// concurrency limits. Writes go nowhere, so a whole chain can run for every pair of states
// without touching a store. It is also the one no-op Services that tests and benchmarks derive
// from, overriding only what they observe.
#pragma once
#include <optional>

#include "engine/services.hpp"

namespace runctl {

class DetachedServices : public Services {
 public:
  DetachedServices() = default;
  explicit DetachedServices(const Settings& settings,
                            std::optional<RunSnapshot> flow_run = std::nullopt)
      : flow_run_(std::move(flow_run)) {
    mutable_settings() = settings;
  }

  void write_state(const Run&, State&) override {}
  std::optional<RunSnapshot> read_flow_run(const std::string& flow_run_id) override {
    if (flow_run_ && flow_run_->run.id == flow_run_id) return flow_run_;
    return std::nullopt;
  }
  StatePtr find_cached_state(const std::string&, Timestamp) override { return nullptr; }
  void insert_cache_entry(const std::string&, std::optional<Timestamp>, const std::string&,
                          Timestamp) override {}
  // Only the run's own current state exists, and it is always earlier than the proposal.
  bool flow_state_timestamp_taken(const std::string&, Timestamp) override { return false; }
  void force_task_run_state(const std::string&, const State&) override {}
  std::vector<std::string> failed_task_runs(const std::string&) override { return {}; }
  void set_task_run_count(const std::string&, int) override {}
  void enqueue_task_run(const Run&, const std::string&) override {}

 private:
  std::optional<RunSnapshot> flow_run_;
};

}  // namespace runctl
