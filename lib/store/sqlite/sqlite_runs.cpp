#include "store/sqlite/sqlite_runs.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <algorithm>
#include <chrono>
#include <concepts>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "engine/services.hpp"  // RetryableError
#include "engine/state_json.hpp"
#include "engine/state_text.hpp"
#include "store/log_codec.hpp"
#include "store/migrations.hpp"
#include "store/run_listing.hpp"
#include "store/run_sql.hpp"
#include "store/sqlite/sqlite_reference.hpp"
#include "store/sqlite/sqlite_support.hpp"
#include "store/state_data.hpp"
#include "util/error.hpp"
#include "util/uuid.hpp"

namespace runctl {
namespace {

namespace fs = std::filesystem;
using Slot = StatementSlot;

// WAL pages at which a commit checkpoints: small for one-off commands (each process reads the
// whole WAL when it opens the database); large for bulk runs, as every checkpoint pays two
// fdatasyncs, which at SQLite's default of 1,000 pages were a third of a bulk run's wall time.
constexpr int kOneOffWalPages = 128;
constexpr int kBulkWalPages = 10000;
constexpr int kBulkCacheKiB = 64 * 1024;  // page cache of a bulk run (see prepare_for_bulk_writes)

// ---------------------------------------------------------------------------------------------
// SQL text (store/run_sql.hpp) in SQLite's placeholders.

// Which state rows a SELECT of select_state_sql() finds.
enum class StateLookup {
  kById,     // ?1 = id
  kCurrent,  // ?1 = run id, ?2 = timestamp, ?3 = id: the row keyed by the run's state columns
  kHistory,  // ?1 = run id, every row in timestamp order
  kWindow,   // ?1 = run id, ?2 = since, ?3 = limit: the newest rows first
};

// The state columns read_state_row expects, joined to the state's artifact. A flow run's
// current state also reads its latest state timestamp (column 9).
std::string select_state_sql(RunKind kind, StateLookup lookup) {
  const char* run_column = run_tables(kind).state_run_column;
  std::string sql = std::string("SELECT ") + kStateColumnsSql;
  if (kind == RunKind::kFlow && lookup == StateLookup::kCurrent)
    sql += latest_state_timestamp_sql(kind, "?1");
  sql += " FROM " + state_with_artifact_sql(kind);
  switch (lookup) {
    case StateLookup::kById:
      return sql + " WHERE s.id = ?1";
    case StateLookup::kCurrent:
      return sql + " WHERE s." + run_column + " = ?1 AND s.timestamp = ?2 AND s.id = ?3";
    case StateLookup::kWindow:
      return sql + " WHERE s." + run_column +
             " = ?1 AND s.timestamp >= ?2 ORDER BY s.timestamp DESC LIMIT ?3";
    case StateLookup::kHistory:
      break;
  }
  return sql + " WHERE s." + run_column + " = ?1 ORDER BY s.timestamp";
}

// A run locked for a transition, with its current state in the same statement (the state
// columns from column `run_columns(kind).size()` on, as read_state_row reads them; NULL when the
// run has no state or its state columns match no row), and for a flow run its latest state
// timestamp after them. A transition needs both, so one look-up serves them.
std::string select_run_with_state_sql(RunKind kind) {
  const RunTables& t = run_tables(kind);
  std::vector<std::string> cols;
  for (const std::string& c : run_columns(kind)) cols.push_back("r." + c);
  std::string sql = "SELECT " + join_sql(cols, ", ") + ", " + kStateColumnsSql;
  if (kind == RunKind::kFlow) sql += latest_state_timestamp_sql(kind, "r.id");
  return sql + " FROM " + t.run_table + " AS r LEFT JOIN " + t.state_table + " AS s ON s." +
         t.state_run_column +
         " = r.id AND s.timestamp = r.state_timestamp AND s.id = r.state_id"
         " LEFT JOIN artifact AS a ON a.id = s.result_artifact_id WHERE r.id = ?1";
}

constexpr const char* kInsertArtifactSql =
    "INSERT INTO artifact (id, created, key, type, description, data, flow_run_id, task_run_id)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* kDeleteArtifactSql = "DELETE FROM artifact WHERE id = ?1";

constexpr const char* kLogColumns =
    "run_id, run_kind, at, initial_type, proposed_state, status, details, validated_state_id, "
    "rule_signature_id, finalization_signature_id, error, duration_us, policy, forced";

// ---------------------------------------------------------------------------------------------
// Binding and reading values.

// A JSON array of strings, as to_text(Json(items)) writes it, without building the Json.
template <typename Strings>
std::string strings_text(const Strings& items) {
  std::size_t size = 2;
  for (const std::string& item : items) size += item.size() + 3;
  std::string out;
  out.reserve(size);  // a rule signature is some twenty names: one allocation, not several
  out.push_back('[');
  for (const std::string& item : items) {
    if (out.size() > 1) out.push_back(',');
    append_json_string(out, item);
  }
  out.push_back(']');
  return out;
}

// The type's name: a static string, bound without a copy.
void bind_type(Use& s, int i, const std::optional<StateType>& t) {
  if (t) {
    s.literal(i, type_name(*t));
  } else {
    s->bind(i);
  }
}

// Equal and of the same types all the way down: Json's == holds 1 and 1.0 equal, which print
// differently.
bool same_json(const Json& a, const Json& b) {
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j)
      if (i.key() != j.key() || !same_json(*i, *j)) return false;
    return true;
  }
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_json(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}

// The empirical_policy text last read or written, with its value. Runs made alike share their
// policy, so a bulk run would otherwise parse and print the same few texts over and over.
struct PolicyMemo {
  std::string text;
  Json value;

  const std::string& text_of(const Json& policy) {
    if (text.empty() || !same_json(policy, value)) {
      text = to_text(policy);
      value = policy;
    }
    return text;
  }
};

// The ids of the signature lists this connection has written or read (schema 5): a policy's
// transitions sign with the same few lists, so the lookup is a short scan, newest hit first.
// An id inserted by a transaction that then rolls back no longer exists: forget_uncommitted()
// drops those.
class SignatureIds {
 public:
  struct Entry {
    Signature names;
    std::int64_t id;
    bool committed;
  };
  const Entry* find(const Signature& names) {
    if (last_ < entries_.size() && entries_[last_].names == names) return &entries_[last_];
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].names == names) return &entries_[last_ = i];
    return nullptr;
  }
  void add(const Signature& names, std::int64_t id) { entries_.push_back({names, id, false}); }
  void commit() {
    for (Entry& e : entries_) e.committed = true;
  }
  void forget_uncommitted() {
    std::erase_if(entries_, [](const Entry& e) { return !e.committed; });
    last_ = 0;
  }

 private:
  std::vector<Entry> entries_;
  std::size_t last_ = 0;
};

// What a transition changes, after the id, in run_sql.hpp's write order; returns the last
// placeholder bound.
int bind_run_changes(Use& s, const Run& run, Timestamp updated, PolicyMemo& memo) {
  int i = 0;
  s.text(++i, run.id);
  s.time(++i, updated);
  s.opt_text(++i, run.state_id);
  bind_type(s, ++i, run.state_type);
  s.opt_text(++i, run.state_name);
  s.opt_time(++i, run.state_timestamp);
  s->bind(++i, run.run_count);
  s.opt_time(++i, run.expected_start_time);
  s.opt_time(++i, run.next_scheduled_start_time);
  s.opt_time(++i, run.start_time);
  s.opt_time(++i, run.end_time);
  s->bind(++i, static_cast<std::int64_t>(run.total_run_time_us));
  s.text(++i, memo.text_of(run.empirical_policy));
  if (run.kind == RunKind::kTask) s->bind(++i, run.flow_run_run_count);
  return i;
}

// Every column, for an insert (`updated` is then the run's creation).
void bind_run(Use& s, const Run& run, Timestamp updated, PolicyMemo& memo) {
  int i = bind_run_changes(s, run, updated, memo);
  s.time(++i, run.created);
  s.text(++i, run.name);
  s.text(++i, strings_text(run.tags));
  if (run.kind == RunKind::kFlow) {
    s.opt_text(++i, run.flow_id);
    s.opt_text(++i, run.deployment_id);
    s.opt_text(++i, run.parent_task_run_id);
    s.opt_text(++i, run.infrastructure_pid);
    s.opt_text(++i, run.work_queue_id);
  } else {
    s.opt_text(++i, run.flow_run_id);
    s.opt_text(++i, run.task_key);
    s.text(++i, run.dynamic_key);
  }
}

Json read_policy(RowReader& r, int i, PolicyMemo& memo) {
  SQLite::Column c = r.column(i);
  const std::string_view text(c.getText(), static_cast<std::size_t>(c.getBytes()));
  if (memo.text.empty() || text != memo.text) {
    memo.value = r.json(i);
    memo.text = text;
  }
  return memo.value;
}

Run read_run(SQLite::Statement& s, RunKind kind, const std::string& path, PolicyMemo& memo) {
  Run run;
  run.kind = kind;
  run.id = s.getColumn(0).getString();
  RowReader r(s, path, kind == RunKind::kFlow ? "flow run" : "task run", run.id);
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
  run.empirical_policy = read_policy(r, ++i, memo);
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

bool is_state_timestamp_conflict(const SQLite::Exception& e) {
  // The (run, timestamp) primary key of the state tables (schema 004), or their unique index
  // before.
  const int code = e.getExtendedErrorCode();
  return (code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE) &&
         std::string_view(e.what()).find("_state.timestamp") != std::string_view::npos;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

// The latest state timestamp of the flow run the open write transaction loaded last.
struct LatestFlowState {
  std::string run_id;
  Timestamp timestamp;
};

// The current state read with its run by load_run, until load_current_state takes it.
struct Prefetched {
  std::string run_id;
  StatePtr state;
};

struct SqliteRuns::Statements {
  PolicyMemo policy_memo;
  SignatureIds signatures;
  std::optional<LatestFlowState> latest_flow_state;
  std::optional<Prefetched> prefetched;
  Slot find_run[2], load_run[2], load_run_with_state[2], insert_run[2], update_run[2],
      update_all_columns[2];
  Slot count_runs[2];
  Slot insert_state[2], load_state[2], load_current_state[2], load_history[2];
  Slot load_history_window[2], load_log_window, count_log_before, delete_log_before;
  Slot insert_artifact, delete_artifact;
  Slot insert_log, load_log, insert_signature, find_signature;
  Slot find_cached_state, insert_cache_entry, state_timestamp_taken, failed_task_runs;
  Slot enqueue_task_run, list_task_queue, list_task_queue_for_key;
  RandomUuidGenerator uuids;
};

SqliteRuns::SqliteRuns(SQLite::Database& db, const std::string& path)
    : db_(db), path_(path), stmts_(std::make_unique<Statements>()) {}

SqliteRuns::~SqliteRuns() = default;

// ---------------------------------------------------------------------------------------------
// Runs.

std::optional<RunKind> SqliteRuns::find_run_kind(const std::string& run_id) {
  return guarded(path_, [&]() -> std::optional<RunKind> {
    for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
      const int k = kind_index(kind);
      Use s(db_, stmts_->find_run[k], [&] {
        return std::string("SELECT 1 FROM ") + run_tables(kind).run_table + " WHERE id = ?1";
      });
      s.text(1, run_id);
      if (s->executeStep()) return kind;
    }
    return std::nullopt;
  });
}

std::optional<Run> SqliteRuns::load_run(RunKind kind, const std::string& run_id, RowLock lock) {
  // No row lock to take: the write transaction's BEGIN IMMEDIATE holds the whole file. A run
  // loaded for writing inside it is about to be transitioned: its current state comes along,
  // kept for load_current_state (and forgotten when the transaction ends).
  const int k = kind_index(kind);
  const bool for_transition =
      lock == RowLock::kForUpdate && sqlite3_get_autocommit(db_.getHandle()) == 0;
  return guarded(path_, [&]() -> std::optional<Run> {
    Use s(db_, for_transition ? stmts_->load_run_with_state[k] : stmts_->load_run[k], [&] {
      return for_transition ? select_run_with_state_sql(kind)
                            : select_run_sql(kind, sqlite_placeholder);
    });
    s.text(1, run_id);
    if (!s->executeStep()) return std::nullopt;
    Run run = read_run(*s, kind, path_, stmts_->policy_memo);
    stmts_->prefetched.reset();
    static const int bases[2] = {static_cast<int>(run_columns(RunKind::kFlow).size()),
                                 static_cast<int>(run_columns(RunKind::kTask).size())};
    const int base = bases[k];
    if (for_transition && !s->isColumnNull(base)) {
      stmts_->prefetched = Prefetched{run.id, read_state_row(*s, base)};
      if (kind == RunKind::kFlow) {
        RowReader r(*s, path_, "state", run.id);
        if (auto latest = r.opt_time(base + 9)) stmts_->latest_flow_state = {run.id, *latest};
      }
    }
    return run;
  });
}

void SqliteRuns::insert_run(const Run& run) {
  try {
    Use s(db_, stmts_->insert_run[kind_index(run.kind)],
          [&] { return insert_run_sql(run.kind, sqlite_placeholder); });
    bind_run(s, run, run.created, stmts_->policy_memo);
    s->exec();
  } catch (const SQLite::Exception& e) {
    // The id is the run table's only unique key; the message is PostgreSQL's (and the CLI's).
    if (is_unique_violation(e))
      throw Error(ErrorKind::kBadData, "a run with id " + run.id + " already exists");
    throw_sqlite_error(e, path_);
  }
}

void SqliteRuns::update_run(const Run& run, RunColumns columns) {
  guarded(path_, [&] {
    const int k = kind_index(run.kind);
    Use s(db_, columns == RunColumns::kAll ? stmts_->update_all_columns[k] : stmts_->update_run[k],
          [&] { return update_run_sql(run.kind, sqlite_placeholder, columns); });
    // `updated` follows the run's own clock (its latest state time), not the wall clock, so
    // runs driven by an injected clock stay reproducible.
    const Timestamp updated = run.state_timestamp.value_or(run.created);
    if (columns == RunColumns::kAll)
      bind_run(s, run, updated, stmts_->policy_memo);
    else
      bind_run_changes(s, run, updated, stmts_->policy_memo);
    if (s->exec() == 0)
      throw Error(ErrorKind::kNotFound,
                  std::string(kind_name(run.kind)) + " run not found: " + run.id);
  });
}

std::int64_t SqliteRuns::count_runs(RunKind kind) {
  return guarded(path_, [&] {
    const int k = kind_index(kind);
    Use s(db_, stmts_->count_runs[k],
          [&] { return std::string("SELECT count(*) FROM ") + run_tables(kind).run_table; });
    s->executeStep();
    return s->getColumn(0).getInt64();
  });
}

std::vector<std::string> SqliteRuns::list_run_ids(const RunFilter& filter) {
  static const SqlDialect kSqlite{
      [](int n) { return "?" + std::to_string(n); },
      [](const std::string& p) { return "name GLOB " + p; },
      [](const std::string& p) {
        return "EXISTS (SELECT 1 FROM json_each(tags) WHERE json_each.value = " + p + ")";
      },
      false, ""};
  const ListQuery q = run_listing_query(filter, kSqlite);
  return guarded(path_, [&] {
    SQLite::Statement s(db_, q.sql);  // its shape varies with the filter: not cached
    for (std::size_t i = 0; i < q.params.size(); ++i) s.bind(static_cast<int>(i + 1), q.params[i]);
    std::vector<std::string> ids;
    while (s.executeStep()) ids.push_back(s.getColumn(0).getString());
    return ids;
  });
}

RefMatches SqliteRuns::match_runs(RunKind kind, const RefQuery& query, int limit) {
  const RefSql sql =
      reference_sql(run_tables(kind).run_table, "name", query, limit, sqlite_placeholder);
  return sqlite_matches(db_, path_, sql, limit, kind);
}

// ---------------------------------------------------------------------------------------------
// States.

void SqliteRuns::write_state(const Run& run, State& state) {
  const int k = kind_index(run.kind);
  // A timestamp that would not read back (a rule's +1 µs past 9999-12-31T23:59:59.999999)
  // fails the transition here instead of leaving a run that can no longer be loaded.
  if (!parse_timestamp(format_timestamp(state.timestamp)))
    throw Error(ErrorKind::kBadData, "run " + run.id + ": state timestamp " +
                                         format_timestamp(state.timestamp) +
                                         " is out of range (years 1 to 9999)");
  std::optional<std::string> artifact_id;
  try {
    if (state.data && !state.data->is_null() && !is_unpersisted(*state.data)) {
      const ArtifactFields fields = take_artifact_fields(*state.data);
      artifact_id = stmts_->uuids.next();
      Use a(db_, stmts_->insert_artifact, kInsertArtifactSql);
      a.text(1, *artifact_id);
      a.time(2, state.timestamp);
      a.opt_text(3, fields.key);
      a.opt_text(4, fields.type);
      a.opt_text(5, fields.description);
      a.text(6, to_text(*state.data));
      if (run.kind == RunKind::kFlow) {
        a.text(7, run.id);
        a->bind(8);
      } else {
        a.opt_text(7, run.flow_run_id);
        a.text(8, run.id);
      }
      a->exec();
    }
    Use s(db_, stmts_->insert_state[k],
          [&] { return insert_state_sql(run.kind, sqlite_placeholder); });
    s.text(1, state.id);
    s.time(2, state.timestamp);
    s.text(3, run.id);
    bind_type(s, 4, state.type);
    s.text(5, state.name);
    s.opt_text(6, state.message);
    s.time(7, state.timestamp);
    s.text(8, stored_state_details_text(state.details ? *state.details : StateDetails()));
    s.opt_text(9, artifact_id);
    s->exec();
    std::optional<LatestFlowState>& latest = stmts_->latest_flow_state;
    if (latest && latest->run_id == run.id && state.timestamp > latest->timestamp)
      latest->timestamp = state.timestamp;
  } catch (const SQLite::Exception& e) {
    if (is_busy(e)) throw RetryableError(busy_message(path_));
    // A failed statement is undone by SQLite, but the artifact insert before it is not; the
    // caller may still commit (the engine turns this error into ABORT), so drop it here.
    if (artifact_id) {
      try {
        Use d(db_, stmts_->delete_artifact, kDeleteArtifactSql);
        d.text(1, *artifact_id);
        d->exec();
      } catch (const SQLite::Exception&) {
        // Best effort: the original error is the one worth reporting.
      }
    }
    if (is_state_timestamp_conflict(e))
      throw Error(ErrorKind::kBadData,
                  "run " + run.id + " already has a state at " + format_timestamp(state.timestamp) +
                      "; a run's state timestamps must be unique",
                  ErrorReason::kStateTimestampTaken);
    throw_sqlite_error(e, path_);
  }
}

StatePtr SqliteRuns::read_state_row(SQLite::Statement& row, int base) {
  auto state = std::make_shared<State>();
  state->id = row.getColumn(base).getString();
  RowReader r(row, path_, "state", state->id);
  const auto type = r.opt_type(base + 1);
  if (!type) r.bad(base + 1, "missing state type");
  state->type = *type;
  state->name = r.text(base + 2);
  state->message = r.opt_text(base + 3);
  state->timestamp = r.time(base + 4);
  // What runctl wrote reads without a Json tree; anything else goes the general, checking way.
  const std::optional<std::string> details_text = r.opt_text(base + 5);
  if (!details_text || !parse_stored_state_details(*details_text, *state->details)) {
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

StatePtr SqliteRuns::load_current_state(const Run& run) {
  if (!run.state_id) return nullptr;
  if (std::optional<Prefetched>& p = stmts_->prefetched) {
    const bool same = p->run_id == run.id && p->state->id == *run.state_id &&
                      p->state->timestamp == run.state_timestamp;
    StatePtr state = std::move(p->state);
    p.reset();
    if (same) return state;
  }
  return guarded(path_, [&]() -> StatePtr {
    const int k = kind_index(run.kind);
    // By the primary key first: the row sits on the leaf page the next state will be written to,
    // so the transition reads one page where a look-up by id reads two more. A run whose state
    // columns disagree with its state row (edited by hand) is still found by id.
    if (run.state_timestamp) {
      Use s(db_, stmts_->load_current_state[k],
            [&] { return select_state_sql(run.kind, StateLookup::kCurrent); });
      s.text(1, run.id);
      s.time(2, *run.state_timestamp);
      s.text(3, *run.state_id);
      if (s->executeStep()) {
        StatePtr state = read_state_row(*s);
        // Only inside a write transaction, which holds the run: no one else adds a state to it
        // before the transaction ends and forgets this (on_commit, on_rollback).
        if (run.kind == RunKind::kFlow && sqlite3_get_autocommit(db_.getHandle()) == 0) {
          RowReader r(*s, path_, "state", state->id);
          if (auto latest = r.opt_time(9)) stmts_->latest_flow_state = {run.id, *latest};
        }
        return state;
      }
    }
    Use s(db_, stmts_->load_state[k],
          [&] { return select_state_sql(run.kind, StateLookup::kById); });
    s.text(1, *run.state_id);
    if (!s->executeStep()) return nullptr;
    return read_state_row(*s);
  });
}

namespace {

// A window's lower bound as stored text: the empty text sorts before every timestamp.
std::string since_text(const std::optional<Timestamp>& since) {
  return since ? format_timestamp(*since) : std::string();
}

// SQLite: a negative LIMIT is no limit.
std::int64_t limit_value(const std::optional<std::int64_t>& newest) {
  return newest.value_or(-1);
}

}  // namespace

std::vector<StatePtr> SqliteRuns::load_history(const Run& run, const ReadWindow& window) {
  return guarded(path_, [&] {
    const int k = kind_index(run.kind);
    std::vector<StatePtr> out;
    if (!window.bounded()) {
      Use s(db_, stmts_->load_history[k],
            [&] { return select_state_sql(run.kind, StateLookup::kHistory); });
      s.text(1, run.id);
      while (s->executeStep()) out.push_back(read_state_row(*s));
      return out;
    }
    // Read from the newest end, so a limit stops the scan; then put them back in order.
    Use s(db_, stmts_->load_history_window[k],
          [&] { return select_state_sql(run.kind, StateLookup::kWindow); });
    s.text(1, run.id);
    s.text(2, since_text(window.since));
    s->bind(3, static_cast<std::int64_t>(limit_value(window.newest)));
    while (s->executeStep()) out.push_back(read_state_row(*s));
    std::reverse(out.begin(), out.end());
    return out;
  });
}

StatePtr SqliteRuns::load_state(const Run& run, const std::string& state_id) {
  return guarded(path_, [&]() -> StatePtr {
    Use s(db_, stmts_->load_state[kind_index(run.kind)],
          [&] { return select_state_sql(run.kind, StateLookup::kById); });
    s.text(1, state_id);
    if (!s->executeStep()) return nullptr;
    return read_state_row(*s);
  });
}

// ---------------------------------------------------------------------------------------------
// Orchestration log.

std::pair<std::int64_t, std::int64_t> SqliteRuns::signature_ids(const Signature& rules,
                                                                const Signature& finalization) {
  SignatureIds& known = stmts_->signatures;
  const SignatureIds::Entry* r = known.find(rules);
  const SignatureIds::Entry* f = known.find(finalization);
  if (r && f) return {r->id, f->id};
  // A process's first transition: both lists are looked up in one statement, and only when one
  // was never seen before (a new policy, or a new path through one) does a second statement
  // insert it. That upsert returns both rows' ids; its no-op update of a list already there
  // is what makes RETURNING report that row too.
  const std::string texts[2] = {strings_text(rules), strings_text(finalization)};
  const Signature* names[2] = {&rules, &finalization};
  std::optional<std::int64_t> ids[2];
  const auto read_ids = [&](Use& s) {
    s.text(1, texts[0]);
    s.text(2, texts[1]);
    while (s->executeStep()) {
      const std::string found = s->getColumn(1).getString();
      for (int i = 0; i < 2; ++i)
        if (found == texts[i]) ids[i] = s->getColumn(0).getInt64();
    }
  };
  {
    Use s(db_, stmts_->find_signature, "SELECT id, names FROM signature WHERE names IN (?1, ?2)");
    read_ids(s);
  }
  if (!ids[0] || !ids[1]) {
    Use s(db_, stmts_->insert_signature,
          "INSERT INTO signature (names) VALUES (?1), (?2) ON CONFLICT (names) DO UPDATE SET "
          "names = excluded.names RETURNING id, names");
    read_ids(s);
  }
  if (!ids[0] || !ids[1])
    throw Error(ErrorKind::kIo, path_ + ": signature row missing after insert");
  for (int i = 0; i < 2; ++i)
    if (!known.find(*names[i])) known.add(*names[i], *ids[i]);
  return {*ids[0], *ids[1]};
}

void SqliteRuns::on_commit() {
  stmts_->signatures.commit();
  stmts_->latest_flow_state.reset();
  stmts_->prefetched.reset();
}

void SqliteRuns::on_rollback() {
  stmts_->signatures.forget_uncommitted();
  stmts_->latest_flow_state.reset();
  stmts_->prefetched.reset();
}

std::int64_t SqliteRuns::insert_log(const LogEntry& entry) {
  return guarded(path_, [&] {
    const auto [rule_id, finalization_id] =
        signature_ids(entry.rule_signature, entry.finalization_signature);
    Use s(db_, stmts_->insert_log, [] {
      return std::string("INSERT INTO orchestration_log (") + kLogColumns +
             ", event, event_occurred, event_resource, event_related, event_payload, "
             "event_follows) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
             "?15, ?16, ?17, ?18, ?19, ?20)";
    });
    s.text(1, entry.run_id);
    s.literal(2, kind_name(entry.run_kind));
    s.time(3, entry.at);
    bind_type(s, 4, entry.initial_type);
    if (!entry.proposed_state_text.empty()) {
      s.text(5, entry.proposed_state_text);
    } else if (entry.proposed_state.is_null()) {
      s->bind(5);
    } else {
      s.text(5, to_text(entry.proposed_state));
    }
    s.text(6, entry.status);
    s.opt_text(7, stored_details_text(entry));
    s.opt_text(8, entry.validated_state_id);
    s->bind(9, rule_id);
    s->bind(10, finalization_id);
    s.opt_text(11, entry.error);
    s->bind(12, static_cast<std::int64_t>(entry.duration_us));
    s.text(13, entry.policy);
    s->bind(14, entry.forced ? 1 : 0);
    if (const std::optional<Event>& e = entry.event) {
      s.text(15, e->event);
      s.time(16, e->occurred);
      s.text(17, e->resource);
      s.text(18, e->related);
      s.text(19, e->payload);
      s.opt_text(20, e->follows);
    }
    s->exec();
    return db_.getLastInsertRowid();
  });
}

namespace {

constexpr const char* kSelectLog =
    "SELECT l.id, l.run_id, l.run_kind, l.at, l.initial_type, l.proposed_state, "
    "l.status, l.details, l.validated_state_id, rs.names, fs.names, l.error, "
    "l.duration_us, l.policy, l.forced FROM orchestration_log AS l "
    "JOIN signature AS rs ON rs.id = l.rule_signature_id "
    "JOIN signature AS fs ON fs.id = l.finalization_signature_id ";

}  // namespace

std::vector<LogEntry> SqliteRuns::load_log(const std::string& run_id, const ReadWindow& window) {
  return guarded(path_, [&] {
    const bool bounded = window.bounded();
    // A window reads from the newest end (the (run_id, id) index backwards), so a limit stops
    // the scan; the rows are put back in order below.
    Use s(db_, bounded ? stmts_->load_log_window : stmts_->load_log, [bounded] {
      return std::string(kSelectLog) + (bounded ? "WHERE l.run_id = ?1 AND l.at >= ?2 ORDER BY "
                                                  "l.id DESC LIMIT ?3"
                                                : "WHERE l.run_id = ?1 ORDER BY l.id");
    });
    s->bind(1, run_id);
    if (bounded) {
      s.text(2, since_text(window.since));
      s->bind(3, static_cast<std::int64_t>(limit_value(window.newest)));
    }
    std::vector<LogEntry> out;
    while (s->executeStep()) {
      LogEntry e;
      e.id = s->getColumn(0).getInt64();
      const std::string row = std::to_string(e.id);
      RowReader r(*s, path_, "orchestration_log row", row);
      e.run_id = r.text(1);
      const std::string kind = r.text(2);
      if (kind != "flow" && kind != "task") r.bad(2, "invalid run kind '" + kind + "'");
      e.run_kind = kind == "flow" ? RunKind::kFlow : RunKind::kTask;
      e.at = r.time(3);
      e.initial_type = r.opt_type(4);
      e.proposed_state = proposal_from_stored(r.json(5), r.where());
      e.status = r.text(6);
      details_from_stored(r.json(7), e);
      e.validated_state_id = r.opt_text(8);
      e.rule_signature = Signature(r.strings(9));
      e.finalization_signature = Signature(r.strings(10));
      e.error = r.opt_text(11);
      e.duration_us = r.int64(12);
      e.policy = r.text(13);
      e.forced = r.int64(14) != 0;
      out.push_back(std::move(e));
    }
    if (bounded) std::reverse(out.begin(), out.end());
    return out;
  });
}

std::int64_t SqliteRuns::count_log_before(Timestamp cutoff) {
  return guarded(path_, [&] {
    Use s(db_, stmts_->count_log_before, "SELECT count(*) FROM orchestration_log WHERE at < ?1");
    s.time(1, cutoff);
    s->executeStep();
    return s->getColumn(0).getInt64();
  });
}

std::int64_t SqliteRuns::delete_log_before(Timestamp cutoff, std::int64_t max_rows) {
  return guarded(path_, [&]() -> std::int64_t {
    // Lowest ids first: the oldest rows are at the start of the table, so each batch's scan
    // stops soon after the rows it deletes instead of reading the whole log.
    Use s(db_, stmts_->delete_log_before,
          "DELETE FROM orchestration_log WHERE id IN (SELECT id FROM orchestration_log WHERE "
          "at < ?1 ORDER BY id LIMIT ?2)");
    s.time(1, cutoff);
    s->bind(2, static_cast<std::int64_t>(max_rows));
    return s->exec();
  });
}

// ---------------------------------------------------------------------------------------------
// Task-run state cache, EnsureFlowRunStateTimestampIsUnique's timestamp check, legacy retries,
// background task queue (schema 002).

StatePtr SqliteRuns::find_cached_state(const std::string& key, Timestamp now) {
  return guarded(path_, [&]() -> StatePtr {
    // Only the newest live entry counts: if its state row is gone there is no hit, and older
    // entries are not consulted (as in Prefect's CacheRetrieval), hence LIMIT 1 before the join.
    Use s(db_, stmts_->find_cached_state,
          "SELECT s.id, s.type, s.name, s.message, s.timestamp, s.state_details, s.data, a.id, "
          "a.data FROM (SELECT task_run_state_id FROM task_run_state_cache WHERE cache_key = ?1 "
          "AND (cache_expiration IS NULL OR cache_expiration > ?2) ORDER BY created DESC, "
          "seq DESC LIMIT 1) AS c JOIN task_run_state AS s ON s.id = c.task_run_state_id "
          "LEFT JOIN artifact AS a ON a.id = s.result_artifact_id");
    s->bind(1, key);
    s->bind(2, format_timestamp(now));
    if (!s->executeStep()) return nullptr;
    return read_state_row(*s);
  });
}

void SqliteRuns::insert_cache_entry(const std::string& id, const std::string& key,
                                    std::optional<Timestamp> expiration,
                                    const std::string& task_run_state_id, Timestamp now) {
  guarded(path_, [&] {
    Use s(db_, stmts_->insert_cache_entry,
          "INSERT INTO task_run_state_cache (id, created, cache_key, cache_expiration, "
          "task_run_state_id) VALUES (?1, ?2, ?3, ?4, ?5)");
    s->bind(1, id);
    s->bind(2, format_timestamp(now));
    s->bind(3, key);
    s.opt_time(4, expiration);
    s->bind(5, task_run_state_id);
    s->exec();
  });
}

bool SqliteRuns::flow_state_timestamp_taken(const std::string& flow_run_id, Timestamp t) {
  const std::optional<LatestFlowState>& latest = stmts_->latest_flow_state;
  if (latest && latest->run_id == flow_run_id && t > latest->timestamp) return false;
  return guarded(path_, [&] {
    Use s(db_, stmts_->state_timestamp_taken,
          "SELECT 1 FROM flow_run_state WHERE flow_run_id = ?1 AND timestamp = ?2");
    s->bind(1, flow_run_id);
    s->bind(2, format_timestamp(t));
    return s->executeStep();
  });
}

std::vector<std::string> SqliteRuns::failed_task_runs(const std::string& flow_run_id) {
  return guarded(path_, [&] {
    // Ordered by id, which the (flow_run_id, state_type) index yields without sorting.
    Use s(db_, stmts_->failed_task_runs,
          "SELECT id FROM task_run WHERE flow_run_id = ?1 AND state_type = ?2 ORDER BY id");
    s->bind(1, flow_run_id);
    s->bind(2, std::string(type_name(StateType::kFailed)));
    std::vector<std::string> ids;
    while (s->executeStep()) ids.push_back(s->getColumn(0).getString());
    return ids;
  });
}

void SqliteRuns::enqueue_task_run(const std::string& id, const Run& task_run,
                                  const std::string& queue, Timestamp now) {
  guarded(path_, [&] {
    Use s(db_, stmts_->enqueue_task_run,
          "INSERT INTO task_queue (id, task_key, queue, task_run_id, enqueued_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5)");
    s->bind(1, id);
    s->bind(2, task_run.task_key.value_or(""));
    s->bind(3, queue);
    s->bind(4, task_run.id);
    s->bind(5, format_timestamp(now));
    s->exec();
  });
}

std::vector<QueuedTask> SqliteRuns::list_task_queue(const std::optional<std::string>& task_key) {
  return guarded(path_, [&] {
    Use s(db_, task_key ? stmts_->list_task_queue_for_key : stmts_->list_task_queue, [&] {
      return std::string("SELECT id, task_key, queue, task_run_id, enqueued_at FROM task_queue") +
             (task_key ? " WHERE task_key = ?1" : "") + " ORDER BY seq";
    });
    if (task_key) s->bind(1, *task_key);
    std::vector<QueuedTask> out;
    while (s->executeStep()) {
      QueuedTask q;
      q.id = s->getColumn(0).getString();
      RowReader r(*s, path_, "task_queue entry", q.id);
      q.task_key = r.text(1);
      q.queue = r.text(2);
      q.task_run_id = r.text(3);
      q.enqueued_at = r.time(4);
      out.push_back(std::move(q));
    }
    return out;
  });
}

}  // namespace runctl
