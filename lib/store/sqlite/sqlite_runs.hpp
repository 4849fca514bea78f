// RunRepository over a SQLite connection: runs, states, artifacts, the orchestration log, the
// task-run state cache and the task queue. Statements are prepared on first use and kept for the
// connection's life.
#pragma once
#include <memory>
#include <string>

#include "store/repositories.hpp"
#include "store/sqlite/sqlite_support.hpp"

namespace runctl {

class SqliteRuns final : public RunRepository {
 public:
  SqliteRuns(SQLite::Database& db, const std::string& path);
  ~SqliteRuns() override;

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

  // Told by SqliteDatabase when a transaction (or a savepoint) ends, for the ids it caches.
  void on_commit();
  void on_rollback();

 private:
  struct Statements;                                              // sqlite_runs.cpp
  StatePtr read_state_row(SQLite::Statement& row, int base = 0);  // columns from `base` on
  // The ids of a log row's two signature lists, inserted when new.
  std::pair<std::int64_t, std::int64_t> signature_ids(const Signature& rules,
                                                      const Signature& finalization);

  SQLite::Database& db_;
  const std::string& path_;
  std::unique_ptr<Statements> stmts_;
};

}  // namespace runctl
