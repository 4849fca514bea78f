#include "store/sqlite/sqlite_database.hpp"
#include "store/library_versions.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>

#include "store/migrations.hpp"
#include "store/sqlite/sqlite_concurrency.hpp"
#include "store/sqlite/sqlite_runs.hpp"
#include "util/error.hpp"

#ifdef RUNCTL_BENCH
void runctl_bench_count_statements(sqlite3* db);  // bench/statement_counter.cpp
#endif

namespace runctl {

std::string sqlite_library_version() {
  return sqlite3_libversion();
}
namespace {

namespace fs = std::filesystem;

// WAL pages at which a commit checkpoints: small for one-off commands (each process reads the
// whole WAL when it opens the database); large for bulk runs, as every checkpoint pays two
// fdatasyncs (docs/performance.md).
constexpr int kOneOffWalPages = 128;
constexpr int kBulkWalPages = 10000;
constexpr int kBulkCacheKiB = 64 * 1024;  // page cache of a bulk run (see prepare_for_bulk_writes)

bool writable(const std::string& path) {
  return ::access(path.c_str(), W_OK) == 0;
}

bool non_empty_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && fs::file_size(path, ec) > 0;
}

// A path as a SQLite URI (file:...), for the query parameters only a URI can carry.
std::string file_uri(const std::string& path) {
  std::string out = "file:";
  const std::string absolute = fs::absolute(path).string();
  for (unsigned char c : absolute) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20) {
      static const char* hex = "0123456789ABCDEF";
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

struct SqliteDatabase::Statements {
  StatementSlot begin, commit, rollback;
  StatementSlot savepoint, release, rollback_to;
};

std::unique_ptr<Database> open_sqlite_database(const std::string& path, OpenMode mode,
                                               const OpenOptions& options) {
  // A database that vanishes when the command ends would lose what the command wrote, and
  // `file:` URIs could name one (mode=memory) or change how the file is opened.
  if (path.empty()) throw Error(ErrorKind::kUsage, "--db: empty path");
  if (path == ":memory:" || path.starts_with("file:"))
    throw Error(ErrorKind::kUsage, "--db: " + path +
                                       " is not a database file path (an in-memory or URI "
                                       "database is not supported); give a file path");
  return std::make_unique<SqliteDatabase>(path, mode, options);
}

namespace {

// Process-wide settings, which SQLite accepts only before its first connection opens. A
// connection is used from one thread only, so its mutexes are overhead, and so is the memory
// accounting (sqlite3_memory_used), which takes a global mutex on every allocation and which
// runctl never reads. Should SQLite already be initialized, the calls fail and its defaults
// (slower, equally correct) stay.
void configure_sqlite_once() {
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
}

}  // namespace

void SqliteDatabase::open_connection(OpenMode mode, const OpenOptions& options) {
  configure_sqlite_once();
  int flags = SQLite::OPEN_NOMUTEX;
  std::string target = path_;
  if (mode == OpenMode::kCreate) {
    flags |= SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE;
  } else if (mode == OpenMode::kWriteExisting || (writable(path_) && writable(parent_dir(path_)))) {
    flags |= SQLite::OPEN_READWRITE;
  } else {
    // A read command on a file or directory this user may not write. WAL readers need the -shm
    // index: when it is there, a read-only connection uses it; when the directory cannot hold
    // one, the file is read as immutable, which is exact only while no write-ahead log is left.
    flags |= SQLite::OPEN_READONLY;
    if (!writable(parent_dir(path_)) && !fs::exists(path_ + "-shm")) {
      if (non_empty_file(path_ + "-wal"))
        throw Error(ErrorKind::kReadOnly,
                    "cannot read " + path_ + ": its directory is not writable and its " +
                        "write-ahead log (" + path_ + "-wal) has no index beside it; run a " +
                        "write command as a user who may write " + parent_dir(path_) +
                        ", or read a copy");
      target = file_uri(path_) + "?immutable=1";
      flags |= SQLITE_OPEN_URI;
    }
  }
  db_ = std::make_unique<SQLite::Database>(target, flags, options.busy_timeout_ms);
}

int SqliteDatabase::latest_schema_version() {
  const auto& all = sqlite_migrations();
  return all.empty() ? 0 : all.back().version;
}

SqliteDatabase::SqliteDatabase(const std::string& path, OpenMode mode, const OpenOptions& options)
    : path_(path), stmts_(std::make_unique<Statements>()) {
  check_path(mode);
  // An empty file is no database yet: only init and the create commands may turn it into one, so
  // a command that needs an existing database reads it as it is and leaves it untouched.
  std::error_code ec;
  if (mode == OpenMode::kWriteExisting && fs::file_size(path_, ec) == 0 && !ec)
    mode = OpenMode::kRead;
  guarded(path_, [&] {
    open_connection(mode, options);
#ifdef RUNCTL_BENCH
    runctl_bench_count_statements(db_->getHandle());  // make bench: statements per transition
#endif
    // Checked before any pragma: a foreign file must be left exactly as it was.
    version_ = check_is_runctl_database(mode);
    configure_connection(options.busy_timeout_ms);
    if (mode != OpenMode::kRead && version_ < latest_schema_version()) migrate();
  });
  runs_ = std::make_unique<SqliteRuns>(*db_, path_);
  concurrency_ = std::make_unique<SqliteConcurrency>(*db_, path_, version_);
}

SqliteDatabase::~SqliteDatabase() {
  // A bulk run leaves up to kBulkWalPages in the WAL; the next one-off command would read them
  // all to rebuild its WAL index. Fold them back now, once, while it is cheap to.
  if (bulk_writes_ && db_) checkpoint_wal(SQLITE_CHECKPOINT_TRUNCATE);
}

void SqliteDatabase::check_path(OpenMode mode) const {
  std::error_code ec;
  const fs::file_status status = fs::status(path_, ec);
  if (fs::is_directory(status))
    throw Error(ErrorKind::kIo, "cannot open database " + path_ + ": is a directory");
  if (fs::exists(status)) return;
  if (mode != OpenMode::kCreate)
    throw Error(ErrorKind::kNotFound,
                "database not found: " + path_ + " (`runctl --db " + path_ + " init` creates it)");
  const std::string dir = parent_dir(path_);
  if (!fs::is_directory(dir, ec))
    throw Error(ErrorKind::kNotFound, "directory does not exist: " + dir);
}

int SqliteDatabase::check_is_runctl_database(OpenMode mode) {
  // One statement, so the version and the tables come from the same snapshot even while another
  // process is migrating the file.
  SQLite::Statement probe(*db_,
                          "SELECT user_version, (SELECT count(*) FROM sqlite_master), "
                          "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
                          "'flow_run') FROM pragma_user_version");
  probe.executeStep();
  const int version = probe.getColumn(0).getInt();
  const bool has_schema = probe.getColumn(1).getInt() > 0;
  const bool has_run_table = probe.getColumn(2).getInt() > 0;

  const int latest = latest_schema_version();
  if (version > latest)
    throw Error(ErrorKind::kBadData, path_ + " has schema version " + std::to_string(version) +
                                         ", newer than this runctl supports (" +
                                         std::to_string(latest) + "); upgrade runctl");
  const std::string not_ours = path_ + " is not a runctl database";
  if (version == 0) {
    // runctl sets user_version in the transaction that creates its tables, so version 0 means a
    // fresh file (migrated in kCreate) or someone else's database.
    if (mode == OpenMode::kRead)
      throw Error(ErrorKind::kBadData,
                  has_schema ? not_ours : not_ours + " (it is empty; `runctl init` creates one)");
    if (has_schema)
      throw Error(ErrorKind::kBadData, not_ours + " (it has tables but no runctl schema version)");
    return version;
  }
  // Other programs use user_version too; a runctl database always has the run table.
  if (!has_run_table)
    throw Error(ErrorKind::kBadData, not_ours + " (schema version " + std::to_string(version) +
                                         " but no flow_run table)");
  return version;
}

void SqliteDatabase::configure_connection(int busy_timeout_ms) {
  // Turning a fresh file to WAL takes an exclusive lock, and when two processes race for it
  // SQLite answers BUSY at once instead of calling the busy handler (deadlock avoidance), so the
  // wait happens here. On a file already in WAL mode the pragma takes no lock.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  for (;;) {
    try {
      db_->exec("PRAGMA journal_mode=WAL");
      break;
    } catch (const SQLite::Exception& e) {
      // A read-only file stays in its journal mode; reading it still works.
      if ((e.getErrorCode() & 0xff) == SQLITE_READONLY) break;
      if (!is_busy(e) || std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // temp_store: a savepoint's spilled pages (a replayed `apply` group) stay in memory.
  db_->exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY");

  // WAL upkeep sized for one command per process. By default the last connection to close
  // checkpoints the WAL and deletes it, and the next commit re-creates it: four fsyncs (WAL
  // header, directory, WAL, database) in every command, several times what the transition costs.
  // Instead the WAL stays when a command ends, and a commit that leaves it at kOneOffWalPages or
  // more folds it back and truncates it (TRUNCATE, not PASSIVE: the next process rebuilds its WAL
  // index by reading every valid frame, and a PASSIVE checkpoint leaves them all valid). So most
  // commands sync nothing, one in a few pays the checkpoint, and the WAL a process reads on open
  // stays small. Durability is what synchronous=NORMAL promises either way: a commit survives a
  // crash of the process; one not yet checkpointed may be lost with the machine's power.
  busy_timeout_ms_ = busy_timeout_ms;
  wal_checkpoint_pages_ = kOneOffWalPages;
  sqlite3_db_config(db_->getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_wal_hook(db_->getHandle(), &SqliteDatabase::on_wal_commit, this);
}

int SqliteDatabase::on_wal_commit(void* self_ptr, sqlite3*, const char*, int pages) {
  SqliteDatabase& self = *static_cast<SqliteDatabase*>(self_ptr);
  if (pages >= self.wal_checkpoint_pages_)
    self.checkpoint_wal(self.bulk_writes_ ? SQLITE_CHECKPOINT_PASSIVE : SQLITE_CHECKPOINT_TRUNCATE);
  return SQLITE_OK;  // the commit itself succeeded, whatever the checkpoint did
}

void SqliteDatabase::checkpoint_wal(int mode) noexcept {
  // Never wait for another process here: a busy checkpoint just leaves the WAL for a later one.
  sqlite3* handle = db_->getHandle();
  sqlite3_busy_timeout(handle, 0);
  sqlite3_wal_checkpoint_v2(handle, nullptr, mode, nullptr, nullptr);
  sqlite3_busy_timeout(handle, busy_timeout_ms_);
}

void SqliteDatabase::prepare_for_bulk_writes(int writes_per_commit) {
  bulk_writes_ = true;
  wal_checkpoint_pages_ = kBulkWalPages;
  // SQLite's default 2 MB page cache holds about 500 pages: on a large database a group of
  // transitions on random keys (UUIDs) misses it, and each page is a pread. A group that shares a
  // commit keeps up to kBulkCacheKiB of pages instead. With one commit per transition the default
  // stays: SQLite ends every write transaction by sweeping the page cache's whole hash table
  // (pcache1TruncateUnsafe), which with 64 MB of cache cost more than the reads it saved.
  if (writes_per_commit > 1)
    guarded(path_, [&] { db_->exec("PRAGMA cache_size = -" + std::to_string(kBulkCacheKiB)); });
}

void SqliteDatabase::migrate() {
  WriteTransaction tx(*this);
  // Re-read under the write lock: a concurrent runctl may have migrated meanwhile.
  const int current = check_is_runctl_database(OpenMode::kCreate);
  for (const Migration& m : sqlite_migrations()) {
    if (m.version <= current) continue;
    db_->exec(m.sql);
    // PRAGMA takes no bound parameters; the version is a compiled-in integer.
    db_->exec("PRAGMA user_version = " + std::to_string(m.version));
  }
  tx.commit();
  version_ = latest_schema_version();
}

int SqliteDatabase::schema_version() {
  return guarded(path_, [&] { return db_->execAndGet("PRAGMA user_version").getInt(); });
}

// ---------------------------------------------------------------------------------------------
// Transactions.

RunRepository& SqliteDatabase::runs() {
  return *runs_;
}

ConcurrencyRepository& SqliteDatabase::concurrency() {
  return *concurrency_;
}

void SqliteDatabase::begin_write() {
  guarded(path_, [&] { Use(*db_, stmts_->begin, "BEGIN IMMEDIATE")->exec(); });
}

void SqliteDatabase::commit() {
  guarded(path_, [&] { Use(*db_, stmts_->commit, "COMMIT")->exec(); });
  if (runs_) runs_->on_commit();
}

void SqliteDatabase::rollback() {
  if (runs_) runs_->on_rollback();
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) already rolled the transaction back.
  if (!in_transaction()) return;
  guarded(path_, [&] { Use(*db_, stmts_->rollback, "ROLLBACK")->exec(); });
}

bool SqliteDatabase::in_transaction() const {
  return !sqlite3_get_autocommit(db_->getHandle());
}

std::int64_t SqliteDatabase::reusable_bytes() {
  return guarded(path_, [&] {
    const std::int64_t pages = db_->execAndGet("PRAGMA freelist_count").getInt64();
    return pages * db_->execAndGet("PRAGMA page_size").getInt64();
  });
}

std::int64_t SqliteDatabase::storage_bytes() {
  // The WAL counts: right after a large delete most of the new pages are still there.
  std::int64_t total = 0;
  for (const std::string& file : {path_, path_ + "-wal"}) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (!ec) total += static_cast<std::int64_t>(size);
  }
  return total;
}

void SqliteDatabase::compact() {
  if (in_transaction()) throw Error(ErrorKind::kUsage, path_ + ": cannot VACUUM in a transaction");
  guarded(path_, [&] {
    db_->exec("VACUUM");
    // VACUUM writes the new file through the WAL: only a checkpoint moves it into the file and
    // truncates both. It waits for readers up to the busy timeout; a reader still there leaves
    // the WAL for a later checkpoint, and the figure says so by counting it.
    sqlite3_wal_checkpoint_v2(db_->getHandle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                              nullptr);
  });
}

void SqliteDatabase::begin_savepoint() {
  guarded(path_, [&] { Use(*db_, stmts_->savepoint, "SAVEPOINT runctl_transition")->exec(); });
}

void SqliteDatabase::release_savepoint() {
  guarded(path_, [&] { Use(*db_, stmts_->release, "RELEASE runctl_transition")->exec(); });
}

void SqliteDatabase::rollback_to_savepoint() {
  if (runs_) runs_->on_rollback();
  guarded(path_, [&] {
    Use(*db_, stmts_->rollback_to, "ROLLBACK TO runctl_transition")->exec();
    Use(*db_, stmts_->release, "RELEASE runctl_transition")->exec();
  });
}

}  // namespace runctl
