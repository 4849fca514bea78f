// The PostgreSQL Database: one connection, transactions at READ COMMITTED, the schema check and
// its migrations (runctl_schema, under an advisory lock). The repositories are postgres_runs and
// postgres_concurrency.
#pragma once
#include <memory>
#include <string>

#include "store/database.hpp"
#include "store/postgres/pg_connection.hpp"

namespace runctl::pg {

class PostgresRuns;
class PostgresConcurrency;

class PostgresDatabase final : public Database {
 public:
  static int latest_schema_version();

  PostgresDatabase(const std::string& url, OpenMode mode, const OpenOptions& options);
  ~PostgresDatabase() override;

  const std::string& name() const override { return conn_->name(); }
  int schema_version() override;
  RunRepository& runs() override;
  ConcurrencyRepository& concurrency() override;
  // Nothing to tune: every commit stays durable, and the statements are prepared already.
  void prepare_for_bulk_writes(int) override {}
  bool in_transaction() const override { return conn_->in_transaction(); }
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
  struct Probe;
  Probe probe();
  int check_is_runctl_database(OpenMode mode);  // returns the schema version
  void migrate();
  void transaction_ended(bool committed);

  std::unique_ptr<Connection> conn_;
  int version_ = 0;
  std::unique_ptr<PostgresRuns> runs_;
  std::unique_ptr<PostgresConcurrency> concurrency_;
};

}  // namespace runctl::pg
