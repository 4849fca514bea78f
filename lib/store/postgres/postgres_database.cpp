#include "store/postgres/postgres_database.hpp"

#include "store/migrations.hpp"
#include "store/postgres/pg_database.hpp"
#include "store/postgres/pg_url.hpp"
#include "store/postgres/postgres_concurrency.hpp"
#include "store/postgres/postgres_runs.hpp"
#include "util/error.hpp"

namespace runctl {

std::unique_ptr<Database> open_postgres_database(const std::string& url, OpenMode mode,
                                                 const OpenOptions& options) {
  return std::make_unique<pg::PostgresDatabase>(url, mode, options);
}

std::string mask_password(const std::string& url) {
  return pg::masked_url(url);
}

namespace pg {
namespace {

// The key of the transaction-level advisory lock migrations run under: two processes that
// create or migrate the schema at once take turns ('runctl' + the first schema version).
constexpr const char* kMigrationLockSql = "SELECT pg_advisory_xact_lock(7310575041722974213)";

}  // namespace

// What the current schema holds, read in one statement (one snapshot).
struct PostgresDatabase::Probe {
  bool has_schema = false;  // the search_path names a schema that exists
  std::int64_t relations = 0;
  bool has_version_table = false;
  bool has_run_table = false;
  int version = 0;
};

int PostgresDatabase::latest_schema_version() {
  const auto& all = postgres_migrations();
  return all.empty() ? 0 : all.back().version;
}

PostgresDatabase::PostgresDatabase(const std::string& url, OpenMode mode,
                                   const OpenOptions& options)
    : conn_(std::make_unique<Connection>(url, masked_url(url))) {
  // --busy-timeout is how long a statement waits for a row lock; PostgreSQL's 0 would mean
  // "forever", SQLite's means "not at all".
  const int lock_timeout_ms = options.busy_timeout_ms > 0 ? options.busy_timeout_ms : 1;
  conn_->exec("SELECT set_config('lock_timeout', $1, false)",
              Params().text(std::to_string(lock_timeout_ms) + "ms"));
  version_ = check_is_runctl_database(mode);
  if (mode != OpenMode::kRead && version_ < latest_schema_version()) migrate();
  runs_ = std::make_unique<PostgresRuns>(*conn_);
  concurrency_ = std::make_unique<PostgresConcurrency>(*conn_, options.busy_timeout_ms);
}

PostgresDatabase::~PostgresDatabase() = default;

PostgresDatabase::Probe PostgresDatabase::probe() {
  Probe p;
  const Result r = conn_->exec(
      "SELECT (SELECT count(*) FROM pg_class AS c WHERE c.relnamespace = n.oid AND "
      "c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')), "
      "EXISTS (SELECT 1 FROM pg_class AS c WHERE c.relnamespace = n.oid AND "
      "c.relname = 'runctl_schema'), "
      "EXISTS (SELECT 1 FROM pg_class AS c WHERE c.relnamespace = n.oid AND "
      "c.relname = 'flow_run') "
      "FROM pg_namespace AS n WHERE n.nspname = current_schema()");
  if (r.empty()) return p;
  RowReader row(r, 0, conn_->name(), "schema", "");
  p.has_schema = true;
  p.relations = row.int64(0);
  p.has_version_table = row.boolean(1);
  p.has_run_table = row.boolean(2);
  if (p.has_version_table) {
    const Result v = conn_->exec("SELECT coalesce(max(version), 0) FROM runctl_schema");
    RowReader vr(v, 0, conn_->name(), "runctl_schema", "");
    p.version = static_cast<int>(vr.int64(0));
  }
  return p;
}

int PostgresDatabase::check_is_runctl_database(OpenMode mode) {
  const std::string& name = conn_->name();
  const Probe p = probe();
  if (!p.has_schema)
    throw Error(ErrorKind::kNotFound,
                "database not found: " + name +
                    " (its search_path names no schema that exists; create one, or set "
                    "options=-csearch_path%3D<schema>)");
  const int latest = latest_schema_version();
  if (p.version > latest)
    throw Error(ErrorKind::kBadData, name + " has schema version " + std::to_string(p.version) +
                                         ", newer than this runctl supports (" +
                                         std::to_string(latest) + "); upgrade runctl");
  const std::string not_ours = name + " is not a runctl database";
  if (p.version == 0) {
    // runctl writes its version in the transaction that creates its tables, so no version means
    // an empty schema (created in kCreate) or someone else's tables.
    if (p.relations > 0)
      throw Error(ErrorKind::kBadData,
                  p.has_version_table || mode == OpenMode::kRead
                      ? not_ours
                      : not_ours + " (it has tables but no runctl schema version)");
    // An empty schema (a new database's `public`) is where no runctl database was created yet:
    // as for a missing SQLite file, only the commands that create may create it there, and the
    // others find no database (exit 66).
    if (mode != OpenMode::kCreate)
      throw Error(ErrorKind::kNotFound, "database not found: " + name +
                                            " (its schema is empty; `runctl init` creates it)");
    return 0;
  }
  if (!p.has_run_table)
    throw Error(ErrorKind::kBadData, not_ours + " (schema version " + std::to_string(p.version) +
                                         " but no flow_run table)");
  return p.version;
}

void PostgresDatabase::migrate() {
  WriteTransaction tx(*this);
  conn_->exec(kMigrationLockSql);
  // Re-read under the lock: a concurrent runctl may have migrated meanwhile (READ COMMITTED:
  // this statement sees what it committed).
  const int current = check_is_runctl_database(OpenMode::kCreate);
  int reached = current;
  for (const Migration& m : postgres_migrations()) {
    if (m.version <= current) continue;
    conn_->exec_script(m.sql);
    reached = m.version;
  }
  if (reached != current) {
    conn_->exec("DELETE FROM runctl_schema");
    conn_->exec("INSERT INTO runctl_schema (version) VALUES ($1)", Params().int64(reached));
  }
  tx.commit();
  version_ = latest_schema_version();
}

int PostgresDatabase::schema_version() {
  return probe().version;
}

RunRepository& PostgresDatabase::runs() {
  return *runs_;
}

ConcurrencyRepository& PostgresDatabase::concurrency() {
  return *concurrency_;
}

// ---------------------------------------------------------------------------------------------
// Transactions.

std::int64_t PostgresDatabase::reusable_bytes() {
  return 0;  // dead rows are not free space until VACUUM has seen them (database.hpp)
}

std::int64_t PostgresDatabase::storage_bytes() {
  const Result r = conn_->exec("SELECT pg_total_relation_size('orchestration_log')");
  return RowReader(r, 0, conn_->name(), "pg_total_relation_size", "").int64(0);
}

void PostgresDatabase::compact() {
  if (conn_->in_transaction())
    throw Error(ErrorKind::kUsage, conn_->name() + ": cannot VACUUM in a transaction");
  // The simple query protocol: VACUUM refuses to run in any transaction block, the implicit one
  // of a prepared statement included.
  conn_->exec_script("VACUUM orchestration_log");
}

void PostgresDatabase::begin_write() {
  // Sent with the transaction's first statement (the run's SELECT ... FOR UPDATE).
  conn_->begin("BEGIN ISOLATION LEVEL READ COMMITTED");
}

void PostgresDatabase::commit() {
  // COMMIT of a transaction a failed statement aborted answers ROLLBACK, not an error: the
  // caller must hear that nothing was written, and why.
  if (conn_->transaction_failed()) {
    const std::optional<Error> why = conn_->first_failure();
    rollback();
    if (why) throw *why;
    throw Error(ErrorKind::kIo, "database error on " + name() +
                                    ": the transaction was aborted by a failed statement");
  }
  Result r;
  try {
    r = conn_->exec("COMMIT");
  } catch (const Error& e) {
    transaction_ended(false);
    if (e.kind() == ErrorKind::kUnavailable)
      throw Error(e.kind(), std::string(e.what()) +
                                " (during COMMIT: the transaction may or may not have committed)");
    throw;
  }
  const bool committed = std::string_view(libpq().PQcmdStatus(r.get())) == "COMMIT";
  transaction_ended(committed);
  if (!committed)
    throw Error(ErrorKind::kIo,
                "database error on " + name() + ": the server rolled the transaction back");
}

void PostgresDatabase::rollback() {
  conn_->discard_deferred();  // what the server has not seen needs no undoing
  if (!conn_->in_transaction()) {
    transaction_ended(false);
    return;
  }
  try {
    conn_->exec("ROLLBACK");
  } catch (...) {
    transaction_ended(false);
    throw;
  }
  transaction_ended(false);
}

void PostgresDatabase::transaction_ended(bool committed) {
  conn_->clear_failure();
  if (runs_) runs_->transaction_ended(committed);
}

void PostgresDatabase::begin_savepoint() {
  conn_->exec("SAVEPOINT runctl_transition");
}

void PostgresDatabase::release_savepoint() {
  conn_->exec("RELEASE runctl_transition");
}

void PostgresDatabase::rollback_to_savepoint() {
  // SAVEPOINT went out with everything queued before it: what is queued now came after it.
  conn_->discard_deferred();
  conn_->exec("ROLLBACK TO runctl_transition");
  conn_->clear_failure();
  if (runs_) runs_->transaction_ended(false);
  conn_->exec("RELEASE runctl_transition");
}

}  // namespace pg
}  // namespace runctl
