// RunRepository over a PostgreSQL connection: runs, states, artifacts, the orchestration log
// (signature lists interned in `signature`), the task-run state cache and the task queue.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "store/postgres/pg_connection.hpp"
#include "store/repositories.hpp"
#include "util/uuid.hpp"

namespace runctl::pg {

class PostgresRuns final : public RunRepository {
 public:
  explicit PostgresRuns(Connection& conn);
  ~PostgresRuns() override;

  std::optional<RunKind> find_run_kind(const std::string& run_id) override;
  std::optional<Run> load_run(RunKind kind, const std::string& run_id,
                              RowLock lock = RowLock::kNone) override;
  StatePtr load_current_state(const Run& run) override;
  std::vector<StatePtr> load_history(const Run& run, const ReadWindow& window = {}) override;
  StatePtr load_state(const Run& run, const std::string& state_id) override;
  void insert_run(const Run& run) override;
  void update_run(const Run& run, RunColumns columns) override;
  void write_state(const Run& run, State& state) override;
  std::int64_t insert_log(const LogEntry& entry) override;
  void append_log(const LogEntry& entry) override;
  std::vector<LogEntry> load_log(const std::string& run_id, const ReadWindow& window = {}) override;
  std::int64_t count_log_before(Timestamp cutoff) override;
  std::int64_t delete_log_before(Timestamp cutoff, std::int64_t max_rows) override;
  std::int64_t count_runs(RunKind kind) override;
  std::vector<std::string> list_run_ids(const RunFilter& filter) override;
  RefMatches match_runs(RunKind kind, const RefQuery& query, int limit) override;
  StatePtr find_cached_state(const std::string& key, Timestamp now) override;
  void insert_cache_entry(const std::string& id, const std::string& key,
                          std::optional<Timestamp> expiration, const std::string& task_run_state_id,
                          Timestamp now) override;
  bool flow_state_timestamp_taken(const std::string& flow_run_id, Timestamp t) override;
  std::vector<std::string> failed_task_runs(const std::string& flow_run_id) override;
  void enqueue_task_run(const std::string& id, const Run& task_run, const std::string& queue,
                        Timestamp now) override;
  std::vector<QueuedTask> list_task_queue(const std::optional<std::string>& task_key) override;

  // The transaction ended, or a savepoint was rolled back to: signature ids interned since the
  // last commit are kept only if it committed (a rolled-back insert leaves no row to point at).
  void transaction_ended(bool committed);

 private:
  StatePtr read_state_row(const Result& r, int row, int base = 0);  // columns from `base` on
  // The id of the signature row holding this list of names, inserting it if missing.
  std::int64_t signature_id(const Signature& signature);
  Params log_params(const LogEntry& entry);
  // Whether this transaction holds the run's row lock (load_run with kForUpdate): the row
  // exists and no other transaction writes the run or its states until this one ends, so a
  // write of it whose outcome is known can be deferred (Connection::defer).
  bool locked(const Run& run) const;

  Connection& conn_;
  struct SignatureId {
    std::int64_t id;
    bool committed;
  };
  std::map<std::string, SignatureId> signature_ids_;  // JSON text -> row id
  RandomUuidGenerator uuids_;                         // result artifact ids
  // What load_run read with a run it locked, until the transaction ends: the run's current state
  // (until load_current_state takes it) and a flow run's latest state timestamp, later than
  // which a state timestamp is free.
  struct Prefetched {
    std::string run_id;
    StatePtr state;
  };
  std::optional<Prefetched> prefetched_;
  struct LatestFlowState {
    std::string run_id;
    Timestamp timestamp;
  };
  std::optional<LatestFlowState> latest_flow_state_;
  std::string locked_run_id_;  // the run load_run locked in this transaction ("" for none)
};

}  // namespace runctl::pg
