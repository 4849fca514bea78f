// The SQLite backend: one file, one writer at a time (BEGIN IMMEDIATE), WAL so readers never
// wait. The connection, its tuning, the schema migrations (PRAGMA user_version) and the file
// checks live here; the repositories are sqlite_runs and sqlite_concurrency.
#pragma once
#include <memory>
#include <string>

#include "store/database.hpp"
#include "store/sqlite/sqlite_support.hpp"

struct sqlite3;

namespace runctl {

class SqliteRuns;
class SqliteConcurrency;

// Throws as open_database() documents. `path` is a file path: `:memory:`, `file:` URIs and the
// empty path are refused (kUsage), as a database that vanishes when the command ends would lose
// whatever the command wrote.
std::unique_ptr<Database> open_sqlite_database(const std::string& path, OpenMode mode,
                                               const OpenOptions& options);

class SqliteDatabase : public Database {
 public:
  // Latest schema version this build knows (PRAGMA user_version after migrating).
  static int latest_schema_version();

  SqliteDatabase(const std::string& path, OpenMode mode, const OpenOptions& options);
  ~SqliteDatabase() override;

  const std::string& name() const override { return path_; }
  int schema_version() override;
  RunRepository& runs() override;
  ConcurrencyRepository& concurrency() override;
  void prepare_for_bulk_writes(int writes_per_commit) override;
  bool in_transaction() const override;
  std::int64_t reusable_bytes() override;
  std::int64_t storage_bytes() override;
  void compact() override;

 protected:
  void begin_write() override;
  void commit() override;
  void rollback() override;
  void begin_savepoint() override;
  void release_savepoint() override;
  void rollback_to_savepoint() override;

 private:
  struct Statements;

  void check_path(OpenMode mode) const;
  int check_is_runctl_database(OpenMode mode);  // returns the schema version
  void open_connection(OpenMode mode, const OpenOptions& options);
  void configure_connection(int busy_timeout_ms);
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);
  void checkpoint_wal(int mode) noexcept;
  void migrate();

  std::string path_;
  int version_ = 0;  // the schema version after opening
  int busy_timeout_ms_ = 0;
  int wal_checkpoint_pages_ = 0;  // see configure_connection()
  bool bulk_writes_ = false;
  std::unique_ptr<SQLite::Database> db_;
  // Declared after db_ so that their statements are finalized before the connection closes.
  std::unique_ptr<Statements> stmts_;
  std::unique_ptr<SqliteRuns> runs_;
  std::unique_ptr<SqliteConcurrency> concurrency_;
};

}  // namespace runctl
