#include "store/postgres/postgres_runs.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "engine/state_json.hpp"
#include "engine/state_text.hpp"
#include "store/log_codec.hpp"
#include "store/postgres/pg_reference.hpp"
#include "store/run_listing.hpp"
#include "store/run_sql.hpp"
#include "store/state_data.hpp"
#include "util/error.hpp"

namespace runctl::pg {
namespace {

// ---------------------------------------------------------------------------------------------
// SQL text (store/run_sql.hpp) in PostgreSQL's placeholders, built once.

struct RunSql {
  std::string exists, select, select_for_update, insert, update, update_all_columns, count;
  // select_for_update with the run's current state and, for a flow run, its latest state
  // timestamp (PostgresRuns::load_run).
  std::string select_for_transition;
  std::string insert_state, load_state, load_current_state, load_history;
  // $1 run id, $2 since ('' for none), $3 limit (NULL for none): the newest states first.
  std::string load_history_window;
};

RunSql make_run_sql(RunKind kind) {
  const RunTables& t = run_tables(kind);
  RunSql sql;
  sql.exists = std::string("SELECT 1 FROM ") + t.run_table + " WHERE id = $1";
  sql.select = select_run_sql(kind, placeholder);
  // The row stays locked until the transaction ends: no other transition of this run can
  // interleave (store/database.hpp).
  sql.select_for_update = sql.select + " FOR UPDATE";
  // A taken id inserts nothing rather than failing, so the transaction stays usable.
  sql.insert = insert_run_sql(kind, placeholder) + " ON CONFLICT (id) DO NOTHING";
  sql.update = update_run_sql(kind, placeholder, RunColumns::kOrchestration);
  sql.update_all_columns = update_run_sql(kind, placeholder, RunColumns::kAll);
  sql.count = std::string("SELECT count(*) FROM ") + t.run_table;

  // A timestamp the run has a state at already inserts nothing (see write_state).
  sql.insert_state = insert_state_sql(kind, placeholder) + " ON CONFLICT (" + t.state_run_column +
                     ", timestamp) DO NOTHING";
  // The state columns read_state_row expects, joined to the state's artifact.
  const std::string select_state =
      std::string("SELECT ") + kStateColumnsSql + " FROM " + state_with_artifact_sql(kind);
  sql.load_state = select_state + " WHERE s.id = $1";
  sql.load_current_state =
      select_state + " WHERE s." + t.state_run_column + " = $1 AND s.timestamp = $2 AND s.id = $3";
  sql.load_history = select_state + " WHERE s." + t.state_run_column + " = $1 ORDER BY s.timestamp";
  sql.load_history_window = select_state + " WHERE s." + t.state_run_column +
                            " = $1 AND s.timestamp >= $2 ORDER BY s.timestamp DESC LIMIT $3";
  // The lock is taken in the CTE, so it waits for a concurrent transition and returns the run as
  // that one left it. The join then reads with the statement's snapshot, taken before the wait:
  // it finds the state the locked run points at only if that state's transaction is in the
  // snapshot, and then so is every earlier state of the run (each was written under this lock).
  std::vector<std::string> r_cols;
  for (const std::string& c : run_columns(kind)) r_cols.push_back("r." + c);
  sql.select_for_transition =
      "WITH r AS (" + sql.select_for_update + ") SELECT " + join_sql(r_cols, ", ") + ", " +
      kStateColumnsSql +
      (kind == RunKind::kFlow ? latest_state_timestamp_sql(kind, "r.id") : std::string()) +
      " FROM r LEFT JOIN " + t.state_table + " AS s ON s." + t.state_run_column +
      " = r.id AND s.timestamp = r.state_timestamp AND s.id = r.state_id"
      " LEFT JOIN artifact AS a ON a.id = s.result_artifact_id";
  return sql;
}

const RunSql& run_sql(RunKind kind) {
  static const RunSql sql[2] = {make_run_sql(RunKind::kFlow), make_run_sql(RunKind::kTask)};
  return sql[kind_index(kind)];
}

const std::string kInsertArtifactSql =
    "INSERT INTO artifact (id, created, key, type, description, data, flow_run_id, task_run_id)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const std::string kDeleteArtifactSql = "DELETE FROM artifact WHERE id = $1";

// ---------------------------------------------------------------------------------------------
// Runs as rows.

// What a transition changes, after the id, in run_sql.hpp's write order.
void bind_run_changes(Params& p, const Run& run, Timestamp updated) {
  p.text(run.id);
  p.time(updated);
  p.opt_text(run.state_id);
  p.type(run.state_type);
  p.opt_text(run.state_name);
  p.opt_time(run.state_timestamp);
  p.int64(run.run_count);
  p.opt_time(run.expected_start_time);
  p.opt_time(run.next_scheduled_start_time);
  p.opt_time(run.start_time);
  p.opt_time(run.end_time);
  p.int64(run.total_run_time_us);
  p.text(to_text(run.empirical_policy));
  if (run.kind == RunKind::kTask) p.int64(run.flow_run_run_count);
}

// Every column, for an insert (`updated` is then the run's creation).
void bind_run(Params& p, const Run& run, Timestamp updated) {
  bind_run_changes(p, run, updated);
  p.time(run.created);
  p.text(run.name);
  p.text(strings_text(run.tags));
  if (run.kind == RunKind::kFlow) {
    p.opt_text(run.flow_id);
    p.opt_text(run.deployment_id);
    p.opt_text(run.parent_task_run_id);
    p.opt_text(run.infrastructure_pid);
    p.opt_text(run.work_queue_id);
  } else {
    p.opt_text(run.flow_run_id);
    p.opt_text(run.task_key);
    p.text(run.dynamic_key);
  }
}

Run read_run(const Result& res, RunKind kind, const std::string& db) {
  Run run;
  run.kind = kind;
  run.id = res.text(0, 0);
  RowReader r(res, 0, db, kind == RunKind::kFlow ? "flow run" : "task run", run.id);
  int i = 0;  // column 0, id, is read above
  run.created = r.time(++i);
  ++i;  // updated: bookkeeping only
  run.name = r.text(++i);
  run.state_id = r.opt_text(++i);
  run.state_type = r.opt_type(++i);
  run.state_name = r.opt_text(++i);
  run.state_timestamp = r.opt_time(++i);
  run.run_count = static_cast<int>(r.int64(++i));
  run.expected_start_time = r.opt_time(++i);
  run.next_scheduled_start_time = r.opt_time(++i);
  run.start_time = r.opt_time(++i);
  run.end_time = r.opt_time(++i);
  run.total_run_time_us = r.int64(++i);
  run.empirical_policy = r.json(++i);
  run.tags = r.strings(++i);
  if (kind == RunKind::kFlow) {
    run.flow_id = r.opt_text(++i);
    run.deployment_id = r.opt_text(++i);
    run.parent_task_run_id = r.opt_text(++i);
    run.infrastructure_pid = r.opt_text(++i);
    run.work_queue_id = r.opt_text(++i);
  } else {
    run.flow_run_id = r.opt_text(++i);
    run.flow_run_run_count = static_cast<int>(r.int64(++i));
    run.task_key = r.opt_text(++i);
    run.dynamic_key = r.text(++i);
  }
  return run;
}

}  // namespace

PostgresRuns::PostgresRuns(Connection& conn) : conn_(conn) {}

PostgresRuns::~PostgresRuns() = default;

// ---------------------------------------------------------------------------------------------
// Runs.

std::optional<RunKind> PostgresRuns::find_run_kind(const std::string& run_id) {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask})
    if (!conn_.exec(run_sql(kind).exists, Params().text(run_id)).empty()) return kind;
  return std::nullopt;
}

std::optional<Run> PostgresRuns::load_run(RunKind kind, const std::string& run_id, RowLock lock) {
  const RunSql& sql = run_sql(kind);
  // A run locked for writing is about to be transitioned: its current state comes along, kept
  // for load_current_state until the transaction ends.
  const bool for_update = lock == RowLock::kForUpdate && conn_.in_transaction();
  const Result r =
      conn_.exec(for_update ? sql.select_for_transition : sql.select, Params().text(run_id));
  if (r.empty()) return std::nullopt;
  Run run = read_run(r, kind, conn_.name());
  prefetched_.reset();
  if (for_update) locked_run_id_ = run.id;
  static const int bases[2] = {static_cast<int>(run_columns(RunKind::kFlow).size()),
                               static_cast<int>(run_columns(RunKind::kTask).size())};
  const int base = bases[kind_index(kind)];
  if (for_update && !r.is_null(0, base)) {
    prefetched_ = Prefetched{run.id, read_state_row(r, 0, base)};
    if (kind == RunKind::kFlow) {
      RowReader rr(r, 0, conn_.name(), "state", run.id);
      if (auto latest = rr.opt_time(base + 9)) latest_flow_state_ = {run.id, *latest};
    }
  }
  return run;
}

void PostgresRuns::insert_run(const Run& run) {
  Params p;
  bind_run(p, run, run.created);
  if (conn_.exec(run_sql(run.kind).insert, p).affected() == 0)
    throw Error(ErrorKind::kBadData, "a run with id " + run.id + " already exists");
}

void PostgresRuns::update_run(const Run& run, RunColumns columns) {
  Params p;
  // `updated` follows the run's own clock (its latest state time), as on SQLite.
  const Timestamp updated = run.state_timestamp.value_or(run.created);
  const bool all = columns == RunColumns::kAll;
  if (all)
    bind_run(p, run, updated);
  else
    bind_run_changes(p, run, updated);
  const std::string& sql = all ? run_sql(run.kind).update_all_columns : run_sql(run.kind).update;
  if (locked(run)) {
    conn_.defer(sql, std::move(p));  // a locked row is there to update
    return;
  }
  if (conn_.exec(sql, p).affected() == 0)
    throw Error(ErrorKind::kNotFound,
                std::string(kind_name(run.kind)) + " run not found: " + run.id);
}

bool PostgresRuns::locked(const Run& run) const {
  return !locked_run_id_.empty() && run.id == locked_run_id_ && conn_.in_transaction();
}

std::int64_t PostgresRuns::count_runs(RunKind kind) {
  const Result r = conn_.exec(run_sql(kind).count);
  return RowReader(r, 0, conn_.name(), "count", "").int64(0);
}

// ---------------------------------------------------------------------------------------------
// States.

void PostgresRuns::write_state(const Run& run, State& state) {
  // A timestamp that would not read back fails the transition here (as on SQLite).
  if (!parse_timestamp(format_timestamp(state.timestamp)))
    throw Error(ErrorKind::kBadData, "run " + run.id + ": state timestamp " +
                                         format_timestamp(state.timestamp) +
                                         " is out of range (years 1 to 9999)");
  // Later than the locked run's latest state, the timestamp is free: the insert cannot find a
  // conflict, and goes with the transaction's next statement.
  const bool free_timestamp = locked(run) && latest_flow_state_ &&
                              latest_flow_state_->run_id == run.id &&
                              state.timestamp > latest_flow_state_->timestamp;
  std::optional<std::string> artifact_id;
  if (state.data && !state.data->is_null() && !is_unpersisted(*state.data)) {
    const ArtifactFields fields = take_artifact_fields(*state.data);
    artifact_id = uuids_.next();
    Params a;
    a.text(*artifact_id).time(state.timestamp).opt_text(fields.key).opt_text(fields.type);
    a.opt_text(fields.description).text(to_text(*state.data));
    if (run.kind == RunKind::kFlow)
      a.text(run.id).null();
    else
      a.opt_text(run.flow_run_id).text(run.id);
    if (free_timestamp)
      conn_.defer(kInsertArtifactSql, std::move(a));
    else
      conn_.exec(kInsertArtifactSql, a);
  }
  Params s;
  s.text(state.id).time(state.timestamp).text(run.id).type(state.type).text(state.name);
  s.opt_text(state.message).time(state.timestamp);
  s.text(stored_state_details_text(state.details ? *state.details : StateDetails()));
  s.opt_text(artifact_id);
  if (free_timestamp) {
    conn_.defer(run_sql(run.kind).insert_state, std::move(s));
    latest_flow_state_->timestamp = state.timestamp;
    return;
  }
  if (conn_.exec(run_sql(run.kind).insert_state, s).affected() > 0) {
    if (latest_flow_state_ && latest_flow_state_->run_id == run.id &&
        state.timestamp > latest_flow_state_->timestamp)
      latest_flow_state_->timestamp = state.timestamp;
    return;
  }
  // The run has a state at this timestamp. Nothing failed in the database, so the transaction
  // goes on as on SQLite, where the caller may still commit: the artifact goes too.
  if (artifact_id) conn_.exec(kDeleteArtifactSql, Params().text(*artifact_id));
  throw Error(ErrorKind::kBadData,
              "run " + run.id + " already has a state at " + format_timestamp(state.timestamp) +
                  "; a run's state timestamps must be unique",
              ErrorReason::kStateTimestampTaken);
}

StatePtr PostgresRuns::read_state_row(const Result& res, int row, int base) {
  auto state = std::make_shared<State>();
  state->id = res.text(row, base);
  RowReader r(res, row, conn_.name(), "state", state->id);
  const auto type = r.opt_type(base + 1);
  if (!type) r.bad(base + 1, "missing state type");
  state->type = *type;
  state->name = r.text(base + 2);
  state->message = r.opt_text(base + 3);
  state->timestamp = r.time(base + 4);
  // What runctl wrote reads without a Json tree; anything else goes the general, checking way.
  if (r.is_null(base + 5) || !parse_stored_state_details(r.view(base + 5), *state->details)) {
    const Json details = r.json(base + 5);
    if (!details.is_object()) r.bad(base + 5, "expected a JSON object");
    apply_state_details(details, *state->details, r.where() + " state_details");
  }
  // Prefect reads the legacy column first when it is truthy, else the result artifact.
  Json data = r.json(base + 6);
  if (!truthy(data)) data = r.is_null(base + 7) ? Json() : r.json(base + 8);
  if (!data.is_null()) state->data = std::make_shared<Json>(std::move(data));
  return state;
}

StatePtr PostgresRuns::load_current_state(const Run& run) {
  if (!run.state_id) return nullptr;
  if (prefetched_) {
    const bool same = prefetched_->run_id == run.id && prefetched_->state->id == *run.state_id &&
                      prefetched_->state->timestamp == run.state_timestamp;
    StatePtr state = std::move(prefetched_->state);
    prefetched_.reset();
    if (same) return state;
  }
  const RunSql& sql = run_sql(run.kind);
  // By the primary key first; a run whose state columns disagree with its state row (edited by
  // hand) is still found by id.
  if (run.state_timestamp) {
    const Result r =
        conn_.exec(sql.load_current_state,
                   Params().text(run.id).time(*run.state_timestamp).text(*run.state_id));
    if (!r.empty()) return read_state_row(r, 0);
  }
  const Result r = conn_.exec(sql.load_state, Params().text(*run.state_id));
  if (r.empty()) return nullptr;
  return read_state_row(r, 0);
}

namespace {

// A window's bounds as parameters: the empty text sorts before every timestamp (COLLATE "C"),
// and LIMIT NULL is no limit.
Params& window_params(Params& p, const ReadWindow& window) {
  p.text(window.since ? format_timestamp(*window.since) : std::string());
  if (window.newest)
    p.int64(*window.newest);
  else
    p.null();
  return p;
}

}  // namespace

std::vector<StatePtr> PostgresRuns::load_history(const Run& run, const ReadWindow& window) {
  const RunSql& sql = run_sql(run.kind);
  Params p;
  p.text(run.id);
  // A window reads from the newest end, so a limit stops the scan; reversed below.
  const Result r = window.bounded() ? conn_.exec(sql.load_history_window, window_params(p, window))
                                    : conn_.exec(sql.load_history, p);
  std::vector<StatePtr> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_state_row(r, i));
  if (window.bounded()) std::reverse(out.begin(), out.end());
  return out;
}

StatePtr PostgresRuns::load_state(const Run& run, const std::string& state_id) {
  const Result r = conn_.exec(run_sql(run.kind).load_state, Params().text(state_id));
  if (r.empty()) return nullptr;
  return read_state_row(r, 0);
}

// ---------------------------------------------------------------------------------------------
// Orchestration log.

std::int64_t PostgresRuns::signature_id(const Signature& signature) {
  std::vector<std::string> names(signature.begin(), signature.end());
  std::string text = strings_text(names);
  if (auto it = signature_ids_.find(text); it != signature_ids_.end()) return it->second.id;
  // Another transaction inserting the same list makes this one wait for it to end, then find
  // its row; the digest index keeps a list of long names within a btree entry's size.
  Result r = conn_.exec(
      "INSERT INTO signature (names) VALUES ($1) ON CONFLICT (md5(names)) DO NOTHING RETURNING id",
      Params().text(text));
  if (r.empty())
    r = conn_.exec("SELECT id FROM signature WHERE md5(names) = md5($1) AND names = $1",
                   Params().text(text));
  if (r.empty())
    throw Error(ErrorKind::kBadData,
                conn_.name() + ": two signature lists share an md5 digest: " + text);
  const std::int64_t id = RowReader(r, 0, conn_.name(), "signature", "").int64(0);
  signature_ids_.emplace(std::move(text), SignatureId{id, false});
  return id;
}

void PostgresRuns::transaction_ended(bool committed) {
  prefetched_.reset();
  locked_run_id_.clear();
  latest_flow_state_.reset();
  for (auto it = signature_ids_.begin(); it != signature_ids_.end();) {
    if (it->second.committed) {
      ++it;
    } else if (committed) {
      it->second.committed = true;
      ++it;
    } else {
      it = signature_ids_.erase(it);
    }
  }
}

// runctl_next_log_id(): an id only once the transaction has its transaction id, which
// list_events relies on (postgres_events.cpp).
constexpr std::string_view kInsertLogSql =
    "INSERT INTO orchestration_log (id, run_id, run_kind, at, initial_type, proposed_state, "
    "status, details, validated_state_id, rule_signature_id, finalization_signature_id, error, "
    "duration_us, policy, forced, event, event_occurred, event_resource, event_related, "
    "event_payload, event_follows) VALUES (runctl_next_log_id(), $1, $2, $3, $4, $5, $6, $7, "
    "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)";

Params PostgresRuns::log_params(const LogEntry& entry) {
  const std::int64_t rule_id = signature_id(entry.rule_signature);
  const std::int64_t finalization_id = signature_id(entry.finalization_signature);
  Params p;
  p.text(entry.run_id).text(kind_name(entry.run_kind)).time(entry.at).type(entry.initial_type);
  if (!entry.proposed_state_text.empty())
    p.text(entry.proposed_state_text);
  else if (entry.proposed_state.is_null())
    p.null();
  else
    p.text(to_text(entry.proposed_state));
  p.text(entry.status).opt_text(stored_details_text(entry)).opt_text(entry.validated_state_id);
  p.int64(rule_id).int64(finalization_id).opt_text(entry.error).int64(entry.duration_us);
  p.text(entry.policy).boolean(entry.forced);
  if (const std::optional<Event>& e = entry.event) {
    p.text(e->event).time(e->occurred).text(e->resource).text(e->related).text(e->payload);
    p.opt_text(e->follows);
  } else {
    for (int i = 0; i < 6; ++i) p.null();
  }
  return p;
}

std::int64_t PostgresRuns::insert_log(const LogEntry& entry) {
  static const std::string sql = std::string(kInsertLogSql) + " RETURNING id";
  const Result r = conn_.exec(sql, log_params(entry));
  return RowReader(r, 0, conn_.name(), "orchestration_log", "").int64(0);
}

void PostgresRuns::append_log(const LogEntry& entry) {
  static const std::string sql(kInsertLogSql);
  conn_.defer(sql, log_params(entry));
}

std::vector<LogEntry> PostgresRuns::load_log(const std::string& run_id, const ReadWindow& window) {
  static const std::string select =
      "SELECT l.id, l.run_id, l.run_kind, l.at, l.initial_type, l.proposed_state, l.status, "
      "l.details, l.validated_state_id, rs.names, fs.names, l.error, l.duration_us, l.policy, "
      "l.forced FROM orchestration_log AS l "
      "JOIN signature AS rs ON rs.id = l.rule_signature_id "
      "JOIN signature AS fs ON fs.id = l.finalization_signature_id ";
  static const std::string whole = select + "WHERE l.run_id = $1 ORDER BY l.id";
  // From the newest end of the (run_id, id) index, so a limit stops the scan; reversed below.
  static const std::string windowed =
      select + "WHERE l.run_id = $1 AND l.at >= $2 ORDER BY l.id DESC LIMIT $3";
  Params p;
  p.text(run_id);
  const bool bounded = window.bounded();
  const Result r = bounded ? conn_.exec(windowed, window_params(p, window)) : conn_.exec(whole, p);
  std::vector<LogEntry> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    LogEntry e;
    const std::string row = r.text(i, 0);
    RowReader rr(r, i, conn_.name(), "orchestration_log row", row);
    e.id = rr.int64(0);
    e.run_id = rr.text(1);
    const std::string kind = rr.text(2);
    if (kind != "flow" && kind != "task") rr.bad(2, "invalid run kind '" + kind + "'");
    e.run_kind = kind == "flow" ? RunKind::kFlow : RunKind::kTask;
    e.at = rr.time(3);
    e.initial_type = rr.opt_type(4);
    e.proposed_state = proposal_from_stored(rr.json(5), rr.where() + " proposed_state");
    e.status = rr.text(6);
    details_from_stored(rr.json(7), e);
    e.validated_state_id = rr.opt_text(8);
    e.rule_signature = Signature(rr.strings(9));
    e.finalization_signature = Signature(rr.strings(10));
    e.error = rr.opt_text(11);
    e.duration_us = rr.int64(12);
    e.policy = rr.text(13);
    e.forced = rr.boolean(14);
    out.push_back(std::move(e));
  }
  if (bounded) std::reverse(out.begin(), out.end());
  return out;
}

std::int64_t PostgresRuns::count_log_before(Timestamp cutoff) {
  const Result r =
      conn_.exec("SELECT count(*) FROM orchestration_log WHERE at < $1", Params().time(cutoff));
  return RowReader(r, 0, conn_.name(), "orchestration_log", "").int64(0);
}

std::int64_t PostgresRuns::delete_log_before(Timestamp cutoff, std::int64_t max_rows) {
  // Lowest ids first, as on SQLite: the oldest rows come first in id order, so a batch's scan
  // ends soon after the rows it deletes.
  return conn_
      .exec(
          "DELETE FROM orchestration_log WHERE id IN (SELECT id FROM orchestration_log WHERE "
          "at < $1 ORDER BY id LIMIT $2)",
          Params().time(cutoff).int64(max_rows))
      .affected();
}

// ---------------------------------------------------------------------------------------------
// Task-run state cache, EnsureFlowRunStateTimestampIsUnique's timestamp check, legacy retries,
// background task queue.

StatePtr PostgresRuns::find_cached_state(const std::string& key, Timestamp now) {
  // Only the newest live entry counts (the later insert among equal `created`): if its state
  // row is gone there is no hit, hence LIMIT 1 before the join.
  const Result r = conn_.exec(
      "SELECT s.id, s.type, s.name, s.message, s.timestamp, s.state_details, s.data, a.id, "
      "a.data FROM (SELECT task_run_state_id FROM task_run_state_cache WHERE cache_key = $1 "
      "AND (cache_expiration IS NULL OR cache_expiration > $2) ORDER BY created DESC, seq DESC "
      "LIMIT 1) AS c JOIN task_run_state AS s ON s.id = c.task_run_state_id "
      "LEFT JOIN artifact AS a ON a.id = s.result_artifact_id",
      Params().text(key).time(now));
  if (r.empty()) return nullptr;
  return read_state_row(r, 0);
}

void PostgresRuns::insert_cache_entry(const std::string& id, const std::string& key,
                                      std::optional<Timestamp> expiration,
                                      const std::string& task_run_state_id, Timestamp now) {
  conn_.exec(
      "INSERT INTO task_run_state_cache (id, created, cache_key, cache_expiration, "
      "task_run_state_id) VALUES ($1, $2, $3, $4, $5)",
      Params().text(id).time(now).text(key).opt_time(expiration).text(task_run_state_id));
}

bool PostgresRuns::flow_state_timestamp_taken(const std::string& flow_run_id, Timestamp t) {
  if (latest_flow_state_ && latest_flow_state_->run_id == flow_run_id &&
      t > latest_flow_state_->timestamp)
    return false;
  return !conn_
              .exec("SELECT 1 FROM flow_run_state WHERE flow_run_id = $1 AND timestamp = $2",
                    Params().text(flow_run_id).time(t))
              .empty();
}

std::vector<std::string> PostgresRuns::list_run_ids(const RunFilter& filter) {
  static const SqlDialect kPostgres{[](int n) { return "$" + std::to_string(n); },
                                    [](const std::string& p) { return "name ~ " + p; },
                                    [](const std::string& p) { return "tags::jsonb ? " + p; }, true,
                                    " NULLS FIRST"};
  const ListQuery q = run_listing_query(filter, kPostgres);
  Params params;
  for (const std::string& p : q.params) params.text(p);
  const Result r = conn_.exec(q.sql, params);
  std::vector<std::string> ids;
  for (int i = 0; i < r.rows(); ++i) ids.push_back(r.text(i, 0));
  return ids;
}

RefMatches PostgresRuns::match_runs(RunKind kind, const RefQuery& query, int limit) {
  const char* table = kind == RunKind::kFlow ? "flow_run" : "task_run";
  return pg::matches(conn_, reference_sql(table, "name", query, limit, pg::placeholder), limit,
                     kind);
}

std::vector<std::string> PostgresRuns::failed_task_runs(const std::string& flow_run_id) {
  const Result r =
      conn_.exec("SELECT id FROM task_run WHERE flow_run_id = $1 AND state_type = $2 ORDER BY id",
                 Params().text(flow_run_id).text(type_name(StateType::kFailed)));
  std::vector<std::string> ids;
  for (int i = 0; i < r.rows(); ++i) ids.push_back(r.text(i, 0));
  return ids;
}

void PostgresRuns::enqueue_task_run(const std::string& id, const Run& task_run,
                                    const std::string& queue, Timestamp now) {
  conn_.exec(
      "INSERT INTO task_queue (id, task_key, queue, task_run_id, enqueued_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      Params()
          .text(id)
          .text(task_run.task_key.value_or(""))
          .text(queue)
          .text(task_run.id)
          .time(now));
}

std::vector<QueuedTask> PostgresRuns::list_task_queue(const std::optional<std::string>& task_key) {
  const Result r = task_key
                       ? conn_.exec(
                             "SELECT id, task_key, queue, task_run_id, enqueued_at FROM task_queue "
                             "WHERE task_key = $1 ORDER BY seq",
                             Params().text(*task_key))
                       : conn_.exec(
                             "SELECT id, task_key, queue, task_run_id, enqueued_at FROM task_queue "
                             "ORDER BY seq");
  std::vector<QueuedTask> out;
  for (int i = 0; i < r.rows(); ++i) {
    QueuedTask q;
    q.id = r.text(i, 0);
    RowReader rr(r, i, conn_.name(), "task_queue entry", q.id);
    q.task_key = rr.text(1);
    q.queue = rr.text(2);
    q.task_run_id = rr.text(3);
    q.enqueued_at = rr.time(4);
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace runctl::pg
