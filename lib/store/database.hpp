// A runctl database, whatever holds it: the unit of work (transactions) and its two repositories.
// open_database() picks the backend from the URL: postgresql:// or postgres:// is a PostgreSQL
// server (libpq connection URI), anything else a SQLite file path.
//
// Locking contract, the same on every backend:
// - A WriteTransaction holds a write lock on every run it loads with RowLock::kForUpdate until
//   it ends, so two transitions of one run never interleave. SQLite gets this from BEGIN
//   IMMEDIATE (one writer per file); PostgreSQL from SELECT ... FOR UPDATE on the run's row.
// - Rows locked in one transaction are locked in a fixed order (the run first, then any other run
//   it writes, e.g. a subflow's parent task run; tag limits in tag order).
// - A lock not obtained within OpenOptions::busy_timeout_ms is Error(kBusy). A lost race
//   (deadlock, serialization failure) is an Error with ErrorReason::kRetryable: the caller may
//   run the whole transaction again.
// - Destroying a WriteTransaction or Savepoint that was not committed rolls it back, and never
//   throws.
#pragma once
#include <memory>
#include <string>

#include "store/repositories.hpp"

namespace runctl {

enum class OpenMode {
  kRead,           // the database must exist and be a runctl database; nothing is written
  kWriteExisting,  // must exist; its schema is migrated if older
  kCreate,         // created with the schema if missing (a SQLite file, or an empty server db)
};

struct OpenOptions {
  int busy_timeout_ms = 5000;  // SQLite's busy timeout; PostgreSQL's lock_timeout
};

class Database {
 public:
  virtual ~Database() = default;

  // How messages name the database: a path, or a URL with any password masked.
  virtual const std::string& name() const = 0;
  // The schema version the database is at now (what `init` reports).
  virtual int schema_version() = 0;

  virtual RunRepository& runs() = 0;
  virtual ConcurrencyRepository& concurrency() = 0;

  // Many write transactions ahead (apply), each of `writes_per_commit` transitions: a backend
  // may tune itself for throughput (SQLite: WAL checkpoints and page cache).
  virtual void prepare_for_bulk_writes(int writes_per_commit) = 0;
  // Whether a transaction is open: a backend may end one by itself after some errors (SQLite
  // after I/O errors or a full disk, PostgreSQL after a lost connection).
  virtual bool in_transaction() const = 0;

  // --- Storage, for `prune` (each outside a transaction) -------------------------------------
  // Bytes the storage holds for reuse by later writes: SQLite's free pages (freelist_count ×
  // page_size); PostgreSQL, which only learns of dead rows when VACUUM runs, reports 0.
  virtual std::int64_t reusable_bytes() = 0;
  // Bytes the storage takes: SQLite's file and its WAL; PostgreSQL's
  // pg_total_relation_size('orchestration_log') (table, indexes, TOAST).
  virtual std::int64_t storage_bytes() = 0;
  // Gives free space back: SQLite VACUUM, then a WAL checkpoint that truncates the WAL, so the
  // file shrinks now; PostgreSQL `VACUUM orchestration_log`, which makes the dead rows' space
  // reusable and returns only empty pages at the table's end. Throws Error(kUsage) inside a
  // transaction (neither backend can vacuum in one).
  virtual void compact() = 0;

  class WriteTransaction;
  class Savepoint;

 protected:
  virtual void begin_write() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;  // a no-op when the backend already ended the transaction
  virtual void begin_savepoint() = 0;
  virtual void release_savepoint() = 0;
  virtual void rollback_to_savepoint() = 0;  // then releases it: the transaction stays open
};

// A write transaction: BEGIN IMMEDIATE on SQLite, BEGIN (READ COMMITTED) on PostgreSQL.
class Database::WriteTransaction {
 public:
  explicit WriteTransaction(Database& db);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit();
  void rollback();

 private:
  Database& db_;
  bool open_ = true;
};

// A group of statements inside an open transaction that can be undone alone.
class Database::Savepoint {
 public:
  explicit Savepoint(Database& db);
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  void release();
  void rollback();  // undoes the group; the enclosing transaction stays open

 private:
  Database& db_;
  bool open_ = true;
};

using WriteTransaction = Database::WriteTransaction;

// Opens the database `url_or_path` names. Throws Error: kUsage (an empty path, or a form runctl
// does not take), kNotFound (kRead/kWriteExisting and no such database: a missing SQLite file; on
// a server, no such database, no schema, or an empty schema), kBadData (not a runctl database, or
// a newer schema), kReadOnly, kBusy, kIo, kUnavailable (a server that cannot be reached).
std::unique_ptr<Database> open_database(const std::string& url_or_path, OpenMode mode,
                                        const OpenOptions& options = {});

// Whether url_or_path names a PostgreSQL server rather than a SQLite file.
bool is_postgres_url(const std::string& url_or_path);

// Whether this build has the PostgreSQL backend.
bool postgres_available();

}  // namespace runctl
