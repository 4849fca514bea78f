#include "store/postgres/pg_connection.hpp"

#include <cstring>
#include <memory>
#include <string_view>

#include "store/postgres/pg_url.hpp"

namespace runctl::pg {
namespace {

// The first line of libpq's reason, without the "connection to server at ... failed: " it
// begins with (the message names the server itself) and without the server's "FATAL:  ".
std::string connect_reason(const std::string& libpq_message) {
  std::string reason = first_line(libpq_message.substr(0, libpq_message.find('\n')));
  if (reason.starts_with("connection to server ")) {
    const std::size_t failed = reason.find(" failed: ");
    if (failed != std::string::npos) reason.erase(0, failed + std::strlen(" failed: "));
  }
  for (const char* prefix : {"FATAL:  ", "ERROR:  "})
    if (reason.starts_with(prefix)) reason.erase(0, std::strlen(prefix));
  return reason.empty() ? "unknown error" : reason;
}

bool starts_with(const char* sqlstate, std::string_view prefix) {
  return std::string_view(sqlstate).starts_with(prefix);
}

}  // namespace

Connection::Connection(const std::string& url, const std::string& name) : name_(name) {
  // A URI that libpq cannot read is the user's mistake, reported before any connection.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = libpq().PQconninfoParse(url.c_str(), &parse_error);
  if (!parsed) {
    const std::string why = parse_error ? first_line(parse_error) : "out of memory";
    libpq().PQfreemem(parse_error);
    throw Error(ErrorKind::kUsage,
                "--db: not a valid PostgreSQL connection URI: " + name_ + ": " + scrub(why, url));
  }
  libpq().PQconninfoFree(parsed);

  // The URI's settings, then runctl's: text is UTF-8 on the wire whatever the locale.
  const char* keys[] = {"dbname", "fallback_application_name", "client_encoding", nullptr};
  const char* values[] = {url.c_str(), "runctl", "UTF8", nullptr};
  conn_ = libpq().PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn_) throw Error(ErrorKind::kUnavailable, "cannot connect to PostgreSQL: out of memory");
  if (libpq().PQstatus(conn_) != CONNECTION_OK) {
    const std::string reason = scrub(connect_reason(libpq().PQerrorMessage(conn_)), url);
    const std::string where = server();
    libpq().PQfinish(conn_);
    conn_ = nullptr;
    // The server answered, but has no such database: as a missing SQLite file.
    if (reason.starts_with("database \"") && reason.ends_with("\" does not exist"))
      throw Error(ErrorKind::kNotFound, "database not found: " + name_ + " (" + reason +
                                            " on the server; create it with createdb)");
    throw Error(ErrorKind::kUnavailable,
                "cannot connect to PostgreSQL at " + where + ": " + reason);
  }
  libpq().PQsetNoticeReceiver(conn_, &Connection::on_notice, this);
}

void Connection::on_notice(void* self, const PGresult* notice) {
  // Only the server's last word before it closes the connection is worth keeping.
  const char* severity = libpq().PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (!severity || (std::string_view(severity) != "FATAL" && std::string_view(severity) != "PANIC"))
    return;
  const char* primary = libpq().PQresultErrorField(notice, PG_DIAG_MESSAGE_PRIMARY);
  static_cast<Connection*>(self)->last_notice_ = first_line(primary ? primary : "");
}

Connection::~Connection() {
  if (conn_) libpq().PQfinish(conn_);
}

std::string Connection::server() const {
  if (!conn_) return "?";
  const char* host = libpq().PQhost(conn_);
  const char* port = libpq().PQport(conn_);
  std::string out = host && *host ? host : "localhost";
  // A unix socket is a directory (or an abstract name, @...): no port to show.
  if (out.starts_with('/') || out.starts_with('@')) return out;
  if (port && *port) out += std::string(":") + port;
  return out;
}

std::string Connection::busy_message() const {
  return "database is busy: " + name_ +
         " (locked by another process for longer than the busy timeout)";
}

bool Connection::connected() const {
  return conn_ && libpq().PQstatus(conn_) == CONNECTION_OK;
}

bool Connection::in_transaction() const {
  if (!connected()) return false;
  if (begin_deferred_) return true;
  const PGTransactionStatusType s = libpq().PQtransactionStatus(conn_);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

bool Connection::transaction_failed() const {
  return connected() && libpq().PQtransactionStatus(conn_) == PQTRANS_INERROR;
}

void Connection::check_sendable(const Params& params) const {
  if (!connected()) throw to_error(nullptr);
  if (params.nul_index() >= 0)
    throw Error(ErrorKind::kBadData,
                "cannot store text with a NUL byte (\\u0000) in PostgreSQL (" + name_ + ")");
}

Result Connection::exec(const std::string& sql, const Params& params) {
  check_sendable(params);
  if (!deferred_.empty()) return run_pipeline(&sql, &params);
  // A statement run once (most of a one-off command's) goes unprepared: parse, bind and execute
  // in one round trip. The second time its text is run it is prepared, and from then on it is
  // run by name, parsed and planned once for the connection's life (apply's statements).
  auto [it, first_use] = prepared_.try_emplace(sql);
  Result r;
  if (first_use) {
    r = Result(libpq().PQexecParams(conn_, sql.c_str(), params.size(), nullptr, params.values(),
                                    nullptr, nullptr, 0));
  } else {
    if (it->second.empty()) {
      const std::string statement = "runctl_" + std::to_string(++prepared_count_);
      Result prepared(libpq().PQprepare(conn_, statement.c_str(), sql.c_str(), 0, nullptr));
      if (libpq().PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) throw_error(prepared.get());
      it->second = statement;
    }
    r = Result(libpq().PQexecPrepared(conn_, it->second.c_str(), params.size(), params.values(),
                                      nullptr, nullptr, 0));
  }
  const ExecStatusType status = libpq().PQresultStatus(r.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw_error(r.get());
  return r;
}

void Connection::exec_script(const std::string& sql) {
  if (!deferred_.empty()) run_pipeline(nullptr, nullptr);
  Result r(libpq().PQexec(conn_, sql.c_str()));
  const ExecStatusType status = libpq().PQresultStatus(r.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw_error(r.get());
}

void Connection::begin(const std::string& sql) {
  if (!connected()) throw to_error(nullptr);
  deferred_.push_back({sql, Params()});
  begin_deferred_ = true;
}

void Connection::defer(const std::string& sql, Params params) {
  if (!in_transaction()) {
    exec(sql, params);
    return;
  }
  check_sendable(params);  // refused here, where exec() would refuse it
  deferred_.push_back({sql, std::move(params)});
}

void Connection::discard_deferred() {
  deferred_.clear();
  begin_deferred_ = false;
}

Result Connection::run_pipeline(const std::string* last, const Params* last_params) {
  const Libpq& pq = libpq();
  std::vector<Deferred> queue = std::move(deferred_);
  discard_deferred();
  if (pq.PQenterPipelineMode(conn_) != 1) throw to_error(nullptr);

  // What went out, in order: each statement, preceded by its PREPARE the first time it is
  // prepared (statements are prepared as exec() prepares them: on their second run).
  struct Sent {
    std::size_t statement;        // index in queue; queue.size() for `last`
    std::string* name = nullptr;  // a PREPARE's: the name to forget if it fails
  };
  std::vector<Sent> sent;
  const std::size_t count = queue.size() + (last ? 1 : 0);
  bool ok = true;
  for (std::size_t i = 0; i < count && ok; ++i) {
    const std::string& sql = i < queue.size() ? queue[i].sql : *last;
    const Params& p = i < queue.size() ? queue[i].params : *last_params;
    auto [it, first_use] = prepared_.try_emplace(sql);
    if (first_use) {
      ok = pq.PQsendQueryParams(conn_, sql.c_str(), p.size(), nullptr, p.values(), nullptr, nullptr,
                                0) == 1;
    } else {
      if (it->second.empty()) {
        it->second = "runctl_" + std::to_string(++prepared_count_);
        ok = pq.PQsendPrepare(conn_, it->second.c_str(), sql.c_str(), 0, nullptr) == 1;
        if (!ok) {
          it->second.clear();
          break;
        }
        sent.push_back({i, &it->second});
      }
      ok = pq.PQsendQueryPrepared(conn_, it->second.c_str(), p.size(), p.values(), nullptr, nullptr,
                                  0) == 1;
    }
    if (ok) sent.push_back({i});
  }
  if (ok) ok = pq.PQpipelineSync(conn_) == 1;

  // One result per statement, each followed by a NULL, then the sync's. A statement after a
  // failed one is not run: its result says PGRES_PIPELINE_ABORTED.
  std::vector<Result> results(sent.size());
  std::size_t got = 0;
  bool synced = false;
  for (std::size_t nulls = 0; ok && nulls <= sent.size() + 1;) {
    PGresult* r = pq.PQgetResult(conn_);
    if (!r) {
      if (!connected()) break;
      ++nulls;
      continue;
    }
    if (pq.PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      pq.PQclear(r);
      synced = true;
      break;
    }
    if (got < results.size())
      results[got++] = Result(r);
    else
      pq.PQclear(r);
  }
  if (synced) pq.PQexitPipelineMode(conn_);

  std::optional<Error> error;
  Result answer;
  for (std::size_t k = 0; k < sent.size(); ++k) {
    const ExecStatusType status =
        results[k].get() ? pq.PQresultStatus(results[k].get()) : PGRES_FATAL_ERROR;
    const bool good = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    if (sent[k].name) {
      if (!good) sent[k].name->clear();
      continue;
    }
    if (!good && status != PGRES_PIPELINE_ABORTED && !error) error = failure(results[k].get());
    if (sent[k].statement == queue.size()) answer = std::move(results[k]);
  }
  if (!error && (!synced || !ok)) error = to_error(nullptr);
  if (error) throw *error;
  return answer;
}

void Connection::throw_error(const PGresult* result) {
  throw failure(result);
}

Error Connection::failure(const PGresult* result) {
  Error e = to_error(result);
  // A statement after a failed one only says "current transaction is aborted": what failed is
  // the first one, and that is what the caller is told.
  if (first_failure_ && result) {
    const char* state = libpq().PQresultErrorField(result, PG_DIAG_SQLSTATE);
    if (state && std::string_view(state) == "25P02") return *first_failure_;
  }
  if (transaction_failed() && !first_failure_) first_failure_ = e;
  return e;
}

Error Connection::to_error(const PGresult* result) const {
  const char* state_field = result ? libpq().PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* state = state_field ? state_field : "";
  const char* primary =
      result ? libpq().PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string message =
      primary ? primary
              : (result ? libpq().PQresultErrorMessage(result) : libpq().PQerrorMessage(conn_));
  const std::string detail = first_line(message.substr(0, message.find('\n')));

  // The server went away (shut down, crashed, the network): whatever was open is rolled back.
  // Its own last word (a FATAL notice: "terminating connection due to administrator command")
  // says more than libpq's "server closed the connection unexpectedly".
  if (!connected() || starts_with(state, "08") || starts_with(state, "57P")) {
    const std::string why = !last_notice_.empty() && !connected() ? last_notice_ : detail;
    return Error(ErrorKind::kUnavailable, "lost the connection to PostgreSQL at " + server() +
                                              ": " + (why.empty() ? "connection closed" : why));
  }
  const std::string_view s(state);
  if (s == "55P03" || s == "57014")  // lock_timeout; a statement_timeout the user set
    return Error(ErrorKind::kBusy, busy_message());
  if (s == "40P01" || s == "40001")  // deadlock, serialization failure: a lost race
    return Error(ErrorKind::kBusy,
                 "database is busy: " + name_ + " (" + detail + "; a concurrent transaction won)",
                 ErrorReason::kRetryable);
  if (s == "42501" || s == "25006")  // insufficient privilege, a read-only transaction or server
    return Error(ErrorKind::kReadOnly, "database is read-only: " + name_ + ": " + detail);
  if (s == "42P01" || s == "42703" || s == "42883" || starts_with(state, "XX00"))
    return Error(ErrorKind::kBadData, name_ + " is not a runctl database: " + detail);
  if (s == "22021" || s == "22P05" || s == "54000")  // text the database cannot hold
    return Error(ErrorKind::kBadData, "cannot store the value in " + name_ + ": " + detail);
  if (starts_with(state, "53") || starts_with(state, "58"))  // disk full, out of memory, I/O
    return Error(ErrorKind::kIo, "I/O error on database " + name_ + ": " + detail);
  return Error(ErrorKind::kIo, "database error on " + name_ + ": " + detail);
}

}  // namespace runctl::pg
