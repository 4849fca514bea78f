// One libpq connection: statements prepared once per connection and run with text parameters,
// and one mapping from PostgreSQL's failures (SQLSTATE, a lost connection) to runctl::Error.
#pragma once
#include "store/postgres/libpq_api.hpp"

#include <optional>
#include <string>
#include <unordered_map>

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
  [[noreturn]] void throw_error(const PGresult* result);
  Error to_error(const PGresult* result) const;

  // libpq prints the server's notices (and a FATAL that arrives between statements) on stderr:
  // runctl drops them, but keeps a FATAL to say why a lost connection was lost.
  static void on_notice(void* self, const PGresult* notice);

  PGconn* conn_ = nullptr;
  std::string name_;
  std::string last_notice_;
  // SQL text -> prepared statement name ("" once run but not prepared yet).
  std::unordered_map<std::string, std::string> prepared_;
  int prepared_count_ = 0;
  std::optional<Error> first_failure_;
};

}  // namespace runctl::pg
