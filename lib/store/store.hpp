// The SQLite store: a thin layer over SQLiteCpp that loads and saves runs, states and the
// orchestration log. SQLite errors leave it as runctl::Error with the SQLite message.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/concurrency.hpp"  // Event
#include "engine/run.hpp"
#include "engine/signature.hpp"
#include "engine/state.hpp"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite
struct sqlite3;

namespace runctl {

// One row of orchestration_log: a set-state attempt, whatever its outcome.
struct LogEntry {
  std::int64_t id = 0;  // assigned by insert_log
  std::string run_id;
  RunKind run_kind = RunKind::kFlow;
  Timestamp at = 0;
  std::optional<StateType> initial_type;
  Json proposed_state;  // the proposal as given (state JSON), or null
  // When not empty, the proposal as compact JSON text, written instead of proposed_state: the
  // transition already has it, and dumping the Json again cost as much as the insert.
  std::string proposed_state_text;
  std::string status;  // ACCEPT | REJECT | WAIT | ABORT
  Json details;        // {"type", "reason", "delay_seconds"}
  std::optional<std::string> validated_state_id;
  Signature rule_signature;
  Signature finalization_signature;
  std::optional<std::string> error;
  std::int64_t duration_us = 0;
  std::string policy;  // the policy's name or file
  bool forced = false;
  // The flow-run event the transition emitted (InstrumentFlowRunStateTransitions), written in
  // this row. load_log leaves it empty: events are read with ConcurrencyStore::list_events.
  std::optional<Event> event;
};

enum class OpenMode {
  kRead,    // the file must exist and be a runctl database (no migration, no writes)
  kCreate,  // create the file and/or migrate the schema as needed
};

struct StoreOptions {
  std::string path;
  int busy_timeout_ms = 5000;
};

class Store final {
 public:
  // Latest schema version this build knows (PRAGMA user_version after migrating).
  static int latest_schema_version();

  // Throws Error: kNotFound (kRead and no such file), kBadData (not a runctl database, or a
  // newer schema), kReadOnly, kBusy, kIo.
  Store(const StoreOptions& options, OpenMode mode);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }
  int schema_version() const;
  SQLite::Database& db() { return *db_; }
  // Prepared statements of a class layered on this connection (ConcurrencyStore), which is built
  // anew for every transition: kept here, they are prepared once per connection, not once per
  // transition, and finalized before the connection closes. `make` runs on first use.
  template <typename T, typename Make>
  T& extension_statements(Make&& make) {
    if (!extension_statements_) extension_statements_ = make();
    return *static_cast<T*>(extension_statements_.get());
  }

  // BEGIN IMMEDIATE ... COMMIT. Rolls back when destroyed without commit().
  class WriteTransaction {
   public:
    explicit WriteTransaction(Store& store);
    ~WriteTransaction();
    void commit();
    void rollback();

   private:
    Store& store_;
    bool open_ = true;
  };

  // SAVEPOINT ... RELEASE inside an open transaction, so one statement group can be undone
  // alone (apply --commit-every: a failing transition rolls back without its neighbours).
  // Rolls back to the savepoint when destroyed without release().
  class Savepoint {
   public:
    explicit Savepoint(Store& store);
    ~Savepoint();
    void release();
    void rollback();  // ROLLBACK TO, then RELEASE: the transaction stays open

   private:
    Store& store_;
    bool open_ = true;
  };

  // Whether a transaction is open: SQLite ends one by itself after some errors (I/O, full disk).
  bool in_transaction() const;

  // Many write transactions ahead (apply), each of `writes_per_commit` transitions: checkpoint
  // the WAL every 10,000 pages rather than at the small threshold one-off commands use, and fold
  // the WAL back into the database when the store closes. See configure_connection().
  void prepare_for_bulk_writes(int writes_per_commit);

  // Which table holds this id (flow_run first), or nullopt.
  std::optional<RunKind> find_run_kind(const std::string& run_id);
  std::optional<Run> load_run(RunKind kind, const std::string& run_id);
  // The run's current state (via run.state_id) with its data (artifact), or null.
  StatePtr load_current_state(const Run& run);
  // Every state of the run, oldest first (by timestamp, then insertion).
  std::vector<StatePtr> load_history(const Run& run);

  void insert_run(const Run& run);
  // Writes every column of the run back (state pointer, counters, times, policy, ...).
  void update_run(const Run& run);

  // Inserts the state row, creating its result artifact as Prefect does (spec §1.6).
  void write_state(const Run& run, State& state);

  std::int64_t insert_log(const LogEntry& entry);
  std::vector<LogEntry> load_log(const std::string& run_id);

  std::int64_t count_runs(RunKind kind);

  // Task-run state cache (schema 002): newest entry for the key not expired at `now`, or null.
  StatePtr find_cached_state(const std::string& key, Timestamp now);
  void insert_cache_entry(const std::string& id, const std::string& key,
                          std::optional<Timestamp> expiration, const std::string& task_run_state_id,
                          Timestamp now);
  bool flow_state_timestamp_taken(const std::string& flow_run_id, Timestamp t);
  std::vector<std::string> failed_task_runs(const std::string& flow_run_id);

  // Background task queue (schema 002), standing in for Prefect's in-memory queue.
  struct QueuedTask {
    std::string id;
    std::string task_key;
    std::string queue;  // scheduled | retry
    std::string task_run_id;
    Timestamp enqueued_at = 0;
  };
  void enqueue_task_run(const std::string& id, const Run& task_run, const std::string& queue,
                        Timestamp now);
  std::vector<QueuedTask> list_task_queue(const std::optional<std::string>& task_key);

 private:
  struct Statements;  // prepared statements, created on first use (store.cpp)

  void check_path(OpenMode mode) const;
  int check_is_runctl_database(OpenMode mode);  // returns the schema version
  void configure_connection(int busy_timeout_ms);
  static int on_wal_commit(void* store, sqlite3* db, const char* name, int pages);
  void checkpoint_wal(int mode) noexcept;
  void migrate();
  StatePtr read_state_row(SQLite::Statement& row);

  std::string path_;
  int busy_timeout_ms_ = 0;
  int wal_checkpoint_pages_ = 0;  // see configure_connection()
  bool bulk_writes_ = false;
  std::unique_ptr<SQLite::Database> db_;
  // Declared after db_ so the statements are finalized before the connection closes.
  std::unique_ptr<Statements> stmts_;
  std::shared_ptr<void> extension_statements_;  // see extension_statements()
};

}  // namespace runctl
