// What the engine asks of the outside world: reads and writes beyond the run being orchestrated
// (docs/architecture.md). The store implements it (service/store_services); tests fake it.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/run.hpp"
#include "engine/state.hpp"

namespace runctl {

// Raised by a service for errors Prefect treats as client-retryable (database busy/locked): they
// escape validation instead of becoming an ABORT (validate_proposed_state).
class RetryableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A run read in the same transaction, with its current state (null if none).
struct RunSnapshot {
  Run run;
  StatePtr state;
};

// Prefect's server settings that rules read (prefect.settings), with Prefect's defaults.
struct Settings {
  double tag_concurrency_slot_wait_seconds = 10;
  std::size_t max_cache_key_length = 2000;
  double deployment_concurrency_slot_wait_seconds = 30;
  double initial_deployment_lease_duration = 300;
  std::size_t max_scheduled_queue_size = 1000;
  std::size_t max_retry_queue_size = 100;
};

class ConcurrencyServices;  // engine/concurrency.hpp: limits, deployments, leases, events

class Services {
 public:
  virtual ~Services() = default;

  // Concurrency limits, deployments, leases and the event sink; null where there are none
  // (tests of other rules), and the concurrency rules then do nothing.
  virtual ConcurrencyServices* concurrency() { return nullptr; }

  // Persists a newly validated state of `run` (validate_proposed_state). May strip the artifact
  // keys from the state's data in place, as Prefect does. Any error other than RetryableError
  // or runctl::Error turns into ABORT "Error validating state: ...".
  virtual void write_state(const Run& run, State& state) = 0;

  // A flow run and its current state, or nullopt (task rules read the enclosing flow run).
  virtual std::optional<RunSnapshot> read_flow_run(const std::string& flow_run_id) = 0;

  // Task-run state cache (CacheRetrieval / CacheInsertion): the state of the newest entry for
  // `key` that has not expired at `now` (null when none, or when its state row is gone).
  virtual StatePtr find_cached_state(const std::string& key, Timestamp now) = 0;
  virtual void insert_cache_entry(const std::string& key, std::optional<Timestamp> expiration,
                                  const std::string& task_run_state_id, Timestamp now) = 0;

  // Whether a state row of this flow run already has exactly this timestamp
  // (EnsureFlowRunStateTimestampIsUnique).
  virtual bool flow_state_timestamp_taken(const std::string& flow_run_id, Timestamp t) = 0;

  // A nested forced orchestration of another task run (MinimalTaskPolicy + GlobalTaskPolicy), as
  // UpdateSubflowParentTask and the legacy RetryFailedFlows path do, proposing `state` itself:
  // what it validates keeps the state's id and timestamp. Its result is ignored; its errors
  // propagate.
  virtual void force_task_run_state(const std::string& task_run_id, const State& state) = 0;

  // Ids of the task runs of a flow run whose current state is FAILED (legacy RetryFailedFlows).
  virtual std::vector<std::string> failed_task_runs(const std::string& flow_run_id) = 0;
  // Sets a task run's run_count (legacy RetryFailedFlows resets it to 0).
  virtual void set_task_run_count(const std::string& task_run_id, int run_count) = 0;

  // Background task queue (EnqueueScheduledTasks): `queue` is "scheduled" or "retry".
  virtual void enqueue_task_run(const Run& task_run, const std::string& queue) = 0;

  const Settings& settings() const { return settings_; }
  Settings& mutable_settings() { return settings_; }

 private:
  Settings settings_;
};

}  // namespace runctl
