// The two repositories a Database hands out: runs (with their states, log, cache and task queue)
// and concurrency (limits, flows, deployments, leases, events). Backend-neutral: every backend
// implements both with the same observable behaviour, which tests/unit/store_contract_test.cpp
// checks on each backend the build has.
//
// Contract shared by every method:
// - It runs in the caller's transaction when one is open (Database::WriteTransaction), and on
//   its own otherwise (a read command's statement sees committed data only).
// - Failures leave as runctl::Error: kNotFound, kBadData (malformed row, constraint), kBusy (a
//   lock not obtained within the busy timeout), kIo; a lost race (deadlock, serialization
//   failure) carries ErrorReason::kRetryable, and a state timestamp already taken
//   ErrorReason::kStateTimestampTaken.
// - Listings are ordered exactly as documented here, on every backend.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/concurrency.hpp"
#include "engine/run.hpp"
#include "engine/state.hpp"
#include "store/records.hpp"

namespace runctl {

// How a read inside a write transaction treats the row it reads.
enum class RowLock {
  kNone,       // a plain read
  kForUpdate,  // the row stays write-locked until the transaction ends (SELECT ... FOR UPDATE)
};

// Which columns update_run writes.
enum class RunColumns {
  kOrchestration,  // what a transition changes (run_sql.hpp lists them)
  kAll,            // every column, the run's identity too
};

// Which runs list_run_ids returns: every given field narrows the list (they compose with AND).
struct RunFilter {
  RunKind kind = RunKind::kFlow;
  StateTypeSet states;                       // current state type in this set; empty: any
  std::optional<std::string> name_glob;      // the run name matches this glob (*, ?, [...])
  std::optional<std::string> tag;            // the run has this tag
  std::optional<std::string> deployment_id;  // flow runs of this deployment
  std::optional<std::string> flow_run_id;    // task runs of this flow run
  std::optional<Timestamp> state_before;     // the current state's timestamp is earlier than this
  std::optional<Timestamp> state_since;      // ... is at or after this
  std::int64_t limit = 100;
};

// Which part of a run's history or log, or of the event stream, a read returns (`--since`,
// `--limit`). The default window is everything.
struct ReadWindow {
  std::optional<Timestamp> since;  // only entries at or after this time (older ones are left out)
  std::optional<std::int64_t> newest;  // only the N most recent of those, still oldest first
  bool bounded() const { return since || newest; }
};

class RunRepository {
 public:
  virtual ~RunRepository() = default;

  // Which kind of run has this id (flow runs are looked up first), or nullopt.
  virtual std::optional<RunKind> find_run_kind(const std::string& run_id) = 0;
  // The run, or nullopt. kForUpdate, inside a write transaction, locks it until the transaction
  // ends: a transition locks every run it will write, so no two transitions of one run interleave.
  virtual std::optional<Run> load_run(RunKind kind, const std::string& run_id,
                                      RowLock lock = RowLock::kNone) = 0;
  // A flow run of this id, else a task run of it (one look-up for a flow run).
  std::optional<Run> find_run(const std::string& run_id, RowLock lock = RowLock::kNone);

  // The run's current state (via run.state_id) with its data (result artifact), or null.
  virtual StatePtr load_current_state(const Run& run) = 0;
  // The run's states in the window, oldest first (by timestamp, then insertion). A window's
  // `newest` is applied in the query (timestamp DESC LIMIT N), so a long history is not read to
  // return its end.
  virtual std::vector<StatePtr> load_history(const Run& run, const ReadWindow& window = {}) = 0;
  // One state of the run by its id, with its data, or null.
  virtual StatePtr load_state(const Run& run, const std::string& state_id) = 0;

  // Throws Error(kBadData) when the id is taken.
  virtual void insert_run(const Run& run) = 0;
  // Writes back what orchestration changes: the state pointer, counters, times, retry settings
  // (run_sql.hpp lists them). The run's identity (name, tags, created, its flow, deployment,
  // parent, work queue, task key, ...) is left as insert_run wrote it, unless `columns` is
  // kAll, for a repair or a test's set-up that changes it. Throws Error(kNotFound) when there
  // is no such run.
  virtual void update_run(const Run& run, RunColumns columns = RunColumns::kOrchestration) = 0;
  // Inserts the state row, creating its result artifact as Prefect does (the artifact_* keys are
  // removed from state.data in place). A timestamp the run already has a state at:
  // Error(kBadData, reason kStateTimestampTaken).
  virtual void write_state(const Run& run, State& state) = 0;

  // Returns the new row's id, greater than every id committed before it.
  virtual std::int64_t insert_log(const LogEntry& entry) = 0;
  // As insert_log, for a caller that does not need the id. A backend may send the row with the
  // transaction's next statement or its COMMIT (PostgreSQL does, to save a round trip), so a
  // failure to write it may be thrown there: before the transaction commits, never after.
  virtual void append_log(const LogEntry& entry) { insert_log(entry); }
  // The run's log rows in the window (by `at`; `newest` by id), oldest first.
  virtual std::vector<LogEntry> load_log(const std::string& run_id,
                                         const ReadWindow& window = {}) = 0;

  // --- Retention (`prune`) -------------------------------------------------------------------
  // A log row holds the attempt (`log`, its decided_by and signatures) and, for a flow-run
  // transition, its event (`events`): removing the row removes both. States, runs, artifacts and
  // the signature table are never touched, so `history` and `show` are unchanged.
  //
  // How many log rows, of every run, have `at` earlier than the cutoff.
  virtual std::int64_t count_log_before(Timestamp cutoff) = 0;
  // Deletes at most max_rows of the log rows with `at` earlier than the cutoff, lowest ids first,
  // and returns how many it deleted. One batch: the caller runs each in a WriteTransaction of its
  // own and commits it, so that a writer waits for one batch at most, and calls again until a
  // batch deletes fewer than max_rows. Outside a transaction it runs (and commits) on its own.
  virtual std::int64_t delete_log_before(Timestamp cutoff, std::int64_t max_rows) = 0;

  // Runs of this kind whose id begins with query.text (canonical lower case, so a range scan of
  // the primary key) or whose name is query.text (ix_*_run__name, schema 7): the first `limit`
  // by id, and the total. A read: no row is locked.
  virtual RefMatches match_runs(RunKind kind, const RefQuery& query, int limit) = 0;

  virtual std::int64_t count_runs(RunKind kind) = 0;
  // Ids of the runs the filter selects, at most filter.limit of them: oldest current state
  // first (runs with no state before any), then by id. Served by an index on (state_type,
  // state_timestamp) when filter.states is given.
  virtual std::vector<std::string> list_run_ids(const RunFilter& filter) = 0;

  // Task-run state cache: the state of the newest entry for the key not expired at `now` (the
  // later insert wins among entries created at the same time), or null when there is none or
  // its state row is gone.
  virtual StatePtr find_cached_state(const std::string& key, Timestamp now) = 0;
  virtual void insert_cache_entry(const std::string& id, const std::string& key,
                                  std::optional<Timestamp> expiration,
                                  const std::string& task_run_state_id, Timestamp now) = 0;
  // Whether a state of this flow run has exactly this timestamp.
  virtual bool flow_state_timestamp_taken(const std::string& flow_run_id, Timestamp t) = 0;
  // Ids of the flow run's task runs whose current state is FAILED, by id.
  virtual std::vector<std::string> failed_task_runs(const std::string& flow_run_id) = 0;

  // Background task queue (EnqueueScheduledTasks), in enqueue order.
  virtual void enqueue_task_run(const std::string& id, const Run& task_run,
                                const std::string& queue, Timestamp now) = 0;
  virtual std::vector<QueuedTask> list_task_queue(const std::optional<std::string>& task_key) = 0;
};

// Concurrency limits, flows, deployments, leases and events. Shared counters change only through
// the atomic operations below (increment, decrement, set_v1_active_slots after a locking read,
// reap_expired_leases): no backend may lose an update or overcommit a slot when many processes
// write at once.
//
// increment, decrement and reap_expired_leases are each atomic on their own, whether or not a
// transaction is open: all of their writes happen or none, and no other connection changes a
// row they read before they write it.
// - Inside a WriteTransaction they are part of it, and commit or roll back with it; a refused
//   increment takes no slot (a savepoint undoes the limits it took before the refusal).
// - Outside one they run in a write transaction of their own (BEGIN IMMEDIATE on SQLite; BEGIN
//   on PostgreSQL, where a single statement is one by itself) and commit it before returning:
//   called from many processes at once they still never overcommit or lose an update.
// set_v1_active_slots is one statement; the read-compute-write it ends (v1_limits_for_tags, then
// set_v1_active_slots) is atomic only inside a WriteTransaction, whose locking read keeps the
// rows until it ends.
class ConcurrencyRepository {
 public:
  virtual ~ConcurrencyRepository() = default;

  // --- V1 tag limits -------------------------------------------------------------------------
  // Prefect's create is an upsert on the tag: an existing row keeps its id and active slots and
  // takes the new limit. Returns the row as stored.
  virtual V1Limit upsert_v1_limit(const std::string& new_id, const std::string& tag,
                                  std::int64_t limit, Timestamp now) = 0;
  virtual std::optional<V1Limit> v1_limit_by_tag(const std::string& tag) = 0;
  // The limits on these tags, by tag. Inside a write transaction they stay locked (in tag order,
  // so two transitions never deadlock on them) until it ends: the caller may then compute the new
  // slot list and store it with set_v1_active_slots without losing a concurrent update.
  virtual std::vector<V1Limit> v1_limits_for_tags(const std::vector<std::string>& tags) = 0;
  virtual std::vector<V1Limit> list_v1_limits() = 0;  // by tag
  // Stores the set (sorted, duplicates dropped). False if there is no such tag.
  virtual bool set_v1_active_slots(const std::string& tag, const std::vector<std::string>& slots,
                                   Timestamp now) = 0;
  virtual bool delete_v1_limit(const std::string& tag) = 0;

  // --- V2 limits -----------------------------------------------------------------------------
  // Throws Error(kBadData) when the name is taken.
  virtual void insert_v2_limit(const V2Limit& limit) = 0;
  // Writes every column of the row with this id; false if there is none. Name clash: kBadData.
  virtual bool update_v2_limit(const V2Limit& limit) = 0;
  virtual std::optional<V2Limit> v2_limit_by_id(const std::string& id) = 0;
  virtual std::optional<V2Limit> v2_limit_by_name(const std::string& name) = 0;
  virtual std::vector<V2Limit> v2_limits_by_names(const std::vector<std::string>& names) = 0;
  virtual std::vector<V2Limit> list_v2_limits() = 0;  // by name
  virtual bool delete_v2_limit(const std::string& id) = 0;

  // Prefect's slot arithmetic, with decay measured from each row's `updated` to `now`, each one
  // atomic. Increment takes `slots` on every limit among the ids or on none (false: a limit is
  // missing, inactive or would go over). Decrement updates every active row among the ids and
  // reports whether all of them were; `occupancy_seconds` (the reaper's) moves
  // avg_slot_occupancy_seconds as Prefect's repossessor does.
  virtual bool increment(const std::vector<std::string>& ids, std::int64_t slots,
                         Timestamp now) = 0;
  virtual bool decrement(const std::vector<std::string>& ids, std::int64_t slots, Timestamp now,
                         std::optional<double> occupancy_seconds = std::nullopt) = 0;

  // --- Flows and deployments -----------------------------------------------------------------
  // The flow of this name, created with `new_id` if missing.
  virtual FlowInfo ensure_flow(const std::string& new_id, const std::string& name,
                               Timestamp now) = 0;
  virtual std::optional<FlowInfo> read_flow(const std::string& id) = 0;
  // Throws Error(kBadData) when the flow already has a deployment of that name.
  virtual void insert_deployment(const Deployment& deployment) = 0;
  virtual std::optional<Deployment> read_deployment(const std::string& id) = 0;
  virtual std::vector<Deployment> list_deployments() = 0;  // by creation
  // Deployments whose id begins with query.text (a range scan of the primary key) or whose name
  // is query.text (names are unique per flow only): the first `limit` by id, and the total.
  virtual RefMatches match_deployments(const RefQuery& query, int limit) = 0;

  // --- Leases --------------------------------------------------------------------------------
  virtual void insert_lease(const Lease& lease) = 0;
  virtual std::optional<Lease> read_lease(const std::string& id) = 0;
  // Leases whose id begins with `id_prefix` (canonical lower case): the first `limit` by id, and
  // the total. Leases have no name.
  virtual RefMatches match_leases(const std::string& id_prefix, int limit) = 0;
  virtual bool set_lease_expiration(const std::string& id, Timestamp expiration) = 0;
  virtual bool delete_lease(const std::string& id) = 0;
  virtual std::vector<Lease> leases_for_limit(const std::string& limit_id) = 0;  // by expiration
  virtual std::vector<Lease> list_leases() = 0;                                  // by expiration
  // Leases with expiration < now (Prefect's read_expired_lease_ids), on any of `limit_ids` when
  // given, by expiration.
  virtual std::vector<Lease> expired_leases(
      Timestamp now, const std::vector<std::string>* limit_ids = nullptr) = 0;
  // What Prefect's repossessor does to each expired lease: revoke it and decrement its limits by
  // its slots (with the occupancy since it was created). A lease is reaped once: of two processes
  // reaping at once, only the one whose delete removed it decrements. A failed decrement (limit
  // deleted or inactive) does not stop the revocation, as in Prefect. Returns what this call
  // reaped.
  virtual std::vector<Lease> reap_expired_leases(
      Timestamp now, const std::vector<std::string>* limit_ids = nullptr) = 0;

  // --- Events --------------------------------------------------------------------------------
  // Events are written with their transition's log row (LogEntry::event). Events with
  // seq > after_seq, oldest first; only those of `resource_id` when given. A reader that follows
  // with the last seq it saw never skips an event committed after it read.
  // With `since`, only events that occurred at or after it.
  virtual std::vector<Event> list_events(const std::optional<std::string>& resource_id,
                                         std::int64_t after_seq = 0,
                                         std::optional<std::int64_t> max_count = std::nullopt,
                                         std::optional<Timestamp> since = std::nullopt) = 0;
  // Where the `newest` most recent events of the window start, as a cursor for list_events: the
  // seq of the newest event left out, or 0 when the window holds at most `newest` events. One
  // indexed read from the end (ORDER BY seq DESC), however many events there are.
  virtual std::int64_t newest_events_cursor(const std::optional<std::string>& resource_id,
                                            std::int64_t newest,
                                            std::optional<Timestamp> since) = 0;
};

}  // namespace runctl
