#include "store/database.hpp"

#include "store/sqlite/sqlite_database.hpp"
#include "util/error.hpp"
#ifdef RUNCTL_WITH_POSTGRES
#include "store/postgres/postgres_database.hpp"
#endif

namespace runctl {

std::optional<Run> RunRepository::find_run(const std::string& run_id, RowLock lock) {
  std::optional<Run> run = load_run(RunKind::kFlow, run_id, lock);
  if (!run) run = load_run(RunKind::kTask, run_id, lock);
  return run;
}

Database::WriteTransaction::WriteTransaction(Database& db) : db_(db) {
  db_.begin_write();
}

Database::WriteTransaction::~WriteTransaction() {
  if (!open_) return;
  try {
    rollback();
  } catch (...) {
    // A destructor must not throw; every backend rolls back an abandoned transaction anyway.
  }
}

void Database::WriteTransaction::commit() {
  db_.commit();
  open_ = false;
}

void Database::WriteTransaction::rollback() {
  open_ = false;
  db_.rollback();
}

Database::Savepoint::Savepoint(Database& db) : db_(db) {
  db_.begin_savepoint();
}

Database::Savepoint::~Savepoint() {
  if (!open_) return;
  try {
    rollback();
  } catch (...) {
    // A destructor must not throw; the enclosing transaction's rollback undoes it anyway.
  }
}

void Database::Savepoint::release() {
  db_.release_savepoint();
  open_ = false;
}

void Database::Savepoint::rollback() {
  open_ = false;
  if (db_.in_transaction()) db_.rollback_to_savepoint();
}

bool is_postgres_url(const std::string& url_or_path) {
  return url_or_path.starts_with("postgresql://") || url_or_path.starts_with("postgres://");
}

bool postgres_available() {
#ifdef RUNCTL_WITH_POSTGRES
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Database> open_database(const std::string& url_or_path, OpenMode mode,
                                        const OpenOptions& options) {
  if (is_postgres_url(url_or_path)) {
#ifdef RUNCTL_WITH_POSTGRES
    return open_postgres_database(url_or_path, mode, options);
#else
    throw Error(ErrorKind::kUsage,
                "--db: this runctl was built without PostgreSQL support (install libpq-dev and "
                "rebuild)");
#endif
  }
  return open_sqlite_database(url_or_path, mode, options);
}

}  // namespace runctl
