// One libpq connection: statements prepared once per connection and run with text parameters,
// and one mapping from PostgreSQL's failures (SQLSTATE, a lost connection) to runctl::Error.
#pragma once
#include "store/postgres/libpq_api.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/postgres/pg_result.hpp"
#include "store/postgres/pg_text.hpp"
#include "util/error.hpp"

namespace runctl::pg {

class Connection {
 public:
  // Connects to the server a libpq URI names; `name` (the URI, password masked) is how messages
  // name the database. Throws Error: kUsage (not a valid URI), kUnavailable (refused, unknown
  // host, authentication failed), kNotFound (no such database on the server).
  Connection(const std::string& url, const std::string& name);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& name() const { return name_; }

  // Runs one statement: unprepared the first time its text is run, prepared on this connection
  // the second time, by name from then on. Rows or a row count; any failure is thrown as
  // runctl::Error (see to_error).
  Result exec(const std::string& sql, const Params& params = Params());
  // Runs a script of several statements (migrations), unprepared.
  void exec_script(const std::string& sql);

  // Deferred statements: a statement whose answer the caller does not read (BEGIN, a write
  // whose row count cannot be other than the one expected) is queued instead of run, and goes
  // to the server with the next statement exec() runs, in one round trip (libpq's pipeline
  // mode). Their order is kept, and a statement run later sees what they wrote. A deferred
  // statement's failure is thrown by that exec() (the statements after it are not run), as
  // the same Error its own exec() would have thrown: the caller learns it no later than at
  // COMMIT, and nothing of the transaction is committed.
  //
  // BEGIN, sent with the transaction's first statement: in_transaction() is true from here.
  void begin(const std::string& sql);
  // A statement of the open transaction (run at once when none is open).
  void defer(const std::string& sql, Params params);
  // Forgets what is queued and not sent: the transaction, or the savepoint taken before all
  // of it, is being rolled back. A BEGIN not sent yet means the server has no transaction.
  void discard_deferred();

  // Inside BEGIN ... COMMIT (also when a failed statement has aborted the transaction).
  bool in_transaction() const;
  // Whether a failed statement has aborted the open transaction.
  bool transaction_failed() const;
  bool connected() const;
  // The transaction ended (or a savepoint was rolled back to): its first failure is forgotten.
  void clear_failure() { first_failure_.reset(); }
  // The failure that aborted the open transaction, if one did.
  const std::optional<Error>& first_failure() const { return first_failure_; }

  // The server as messages name it: a socket directory, or host:port.
  std::string server() const;

  // "database is busy: <name> (...)", as the SQLite backend words it.
  std::string busy_message() const;

 private:
  // Throws Error when not connected or when a value holds a NUL byte.
  void check_sendable(const Params& params) const;
  [[noreturn]] void throw_error(const PGresult* result);
  // The Error a failed statement is reported as (see throw_error); records the transaction's
  // first failure.
  Error failure(const PGresult* result);
  Error to_error(const PGresult* result) const;

  struct Deferred {
    std::string sql;
    Params params;
  };
  // Sends the queue, then `last` if given, in one pipeline; returns last's result. Throws the
  // first failure among them.
  Result run_pipeline(const std::string* last, const Params* last_params);

  // libpq prints the server's notices (and a FATAL that arrives between statements) on stderr:
  // runctl drops them, but keeps a FATAL to say why a lost connection was lost.
  static void on_notice(void* self, const PGresult* notice);

  PGconn* conn_ = nullptr;
  std::string name_;
  std::string last_notice_;
  // SQL text -> prepared statement name ("" once run but not prepared yet).
  std::unordered_map<std::string, std::string> prepared_;
  int prepared_count_ = 0;
  std::vector<Deferred> deferred_;
  bool begin_deferred_ = false;  // deferred_ starts with a BEGIN the server has not seen
  std::optional<Error> first_failure_;
};

}  // namespace runctl::pg
