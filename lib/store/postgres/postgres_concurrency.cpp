#include "store/postgres/postgres_concurrency.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include "engine/concurrency_json.hpp"
#include "store/postgres/libpq_api.hpp"
#include "store/postgres/pg_reference.hpp"
#include "util/error.hpp"

namespace runctl::pg {
namespace {

// ---------------------------------------------------------------------------------------------
// Rows <-> structs, in the SQLite backend's column orders.

constexpr const char* kV1Columns = "id, created, updated, tag, concurrency_limit, active_slots";

std::vector<V1Limit> read_v1_rows(const Result& r, const std::string& db) {
  std::vector<V1Limit> out;
  for (int i = 0; i < r.rows(); ++i) {
    V1Limit l;
    l.id = r.text(i, 0);
    RowReader rr(r, i, db, "concurrency limit", l.id);
    l.created = rr.time(1);
    l.updated = rr.time(2);
    l.tag = rr.text(3);
    l.limit = rr.int64(4);
    l.active_slots = rr.strings(5);
    out.push_back(std::move(l));
  }
  return out;
}

constexpr const char* kV2Columns =
    "id, created, updated, name, \"limit\", active, active_slots, denied_slots, "
    "slot_decay_per_second, avg_slot_occupancy_seconds";

std::vector<V2Limit> read_v2_rows(const Result& r, const std::string& db) {
  std::vector<V2Limit> out;
  for (int i = 0; i < r.rows(); ++i) {
    V2Limit l;
    l.id = r.text(i, 0);
    RowReader rr(r, i, db, "global concurrency limit", l.id);
    l.created = rr.time(1);
    l.updated = rr.time(2);
    l.name = rr.text(3);
    l.limit = rr.int64(4);
    l.active = rr.boolean(5);
    l.active_slots = rr.int64(6);
    l.denied_slots = rr.int64(7);
    l.slot_decay_per_second = rr.real(8);
    l.avg_slot_occupancy_seconds = rr.real(9);
    out.push_back(std::move(l));
  }
  return out;
}

Params v2_params(const V2Limit& l) {
  Params p;
  p.text(l.id).time(l.created).time(l.updated).text(l.name).int64(l.limit).boolean(l.active);
  p.int64(l.active_slots).int64(l.denied_slots).real(l.slot_decay_per_second);
  p.real(l.avg_slot_occupancy_seconds);
  return p;
}

constexpr const char* kDeploymentColumns =
    "id, created, name, flow_id, tags, concurrency_limit_id, concurrency_options";

std::vector<Deployment> read_deployment_rows(const Result& r, const std::string& db) {
  std::vector<Deployment> out;
  for (int i = 0; i < r.rows(); ++i) {
    Deployment d;
    d.id = r.text(i, 0);
    RowReader rr(r, i, db, "deployment", d.id);
    d.created = rr.time(1);
    d.name = rr.text(2);
    d.flow_id = rr.text(3);
    d.tags = rr.strings(4);
    d.concurrency_limit_id = rr.opt_text(5);
    std::string problem;
    d.concurrency_options = concurrency_options_from_json(rr.json(6), problem);
    if (!problem.empty()) rr.bad(6, problem);
    out.push_back(std::move(d));
  }
  return out;
}

// The lease's limits in their given order, as a JSON array.
constexpr const char* kLeaseColumns =
    "l.id, l.created_at, l.expiration, l.slots, l.holder_type, l.holder_id, l.origin_run_id, "
    "(SELECT coalesce(json_agg(r.limit_id ORDER BY r.position), '[]')::text "
    "FROM concurrency_lease_resource AS r WHERE r.lease_id = l.id)";

std::vector<Lease> read_lease_rows(const Result& r, const std::string& db) {
  std::vector<Lease> out;
  for (int i = 0; i < r.rows(); ++i) {
    Lease l;
    l.id = r.text(i, 0);
    RowReader rr(r, i, db, "lease", l.id);
    l.created_at = rr.time(1);
    l.expiration = rr.time(2);
    l.slots = rr.int64(3);
    auto holder_type = rr.opt_text(4);
    auto holder_id = rr.opt_text(5);
    if (holder_type && holder_id) l.holder = LeaseHolder{*holder_type, *holder_id};
    l.origin_run_id = rr.opt_text(6);
    l.resource_ids = rr.strings(7);
    out.push_back(std::move(l));
  }
  return out;
}

template <typename T>
std::optional<T> first(std::vector<T>&& rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

// The statement with its locking form, for the reads a caller may write back.
struct Locking {
  std::string plain, for_update;
  Locking(const std::string& sql, const std::string& lock = " FOR UPDATE")
      : plain(sql), for_update(sql + lock) {}
};

// ---------------------------------------------------------------------------------------------
// Prefect's slot arithmetic (models.concurrency_limits_v2), in SQL, so that each limit's check and
// change is one statement: with decay measured from `updated` to $2 (runctl_* in schema/postgres/).

#define RUNCTL_SECONDS "runctl_seconds_since(updated, $2)"
#define RUNCTL_ACTIVE_AFTER_DECAY \
  "runctl_decayed(active_slots, slot_decay_per_second, " RUNCTL_SECONDS ")"
#define RUNCTL_DENIED_AFTER_DECAY                                                 \
  "runctl_decayed(denied_slots, runctl_denied_decay_rate(slot_decay_per_second, " \
  "avg_slot_occupancy_seconds), " RUNCTL_SECONDS ")"

// $1 id, $2 now, $3 slots. Takes the slots only if the limit is active and they fit: a row
// count of 0 is a refusal, decided on the row as it is once every earlier writer committed.
constexpr const char* kIncrementSql =
    "UPDATE concurrency_limit_v2 SET active_slots = " RUNCTL_ACTIVE_AFTER_DECAY
    " + $3, denied_slots = " RUNCTL_DENIED_AFTER_DECAY
    ", updated = $2 "
    "WHERE id = $1 AND active AND " RUNCTL_ACTIVE_AFTER_DECAY " + $3 <= \"limit\"";

// $1 id, $2 now, $3 slots, $4 the occupancy per slot a reaper reports (or NULL): the average
// moves as Prefect's repossessor moves it, over the last limit x 2 samples.
constexpr const char* kDecrementSql =
    "UPDATE concurrency_limit_v2 SET active_slots = greatest(0, " RUNCTL_ACTIVE_AFTER_DECAY
    " - $3), denied_slots = " RUNCTL_DENIED_AFTER_DECAY
    ", updated = $2, avg_slot_occupancy_seconds = CASE WHEN $4::double precision IS NOT NULL "
    "AND \"limit\" > 0 THEN avg_slot_occupancy_seconds + $4::double precision / "
    "(\"limit\"::double precision * 2) - avg_slot_occupancy_seconds / "
    "(\"limit\"::double precision * 2) ELSE avg_slot_occupancy_seconds END "
    "WHERE id = $1 AND active";

#undef RUNCTL_SECONDS
#undef RUNCTL_ACTIVE_AFTER_DECAY
#undef RUNCTL_DENIED_AFTER_DECAY

std::vector<std::string> sorted_unique(const std::vector<std::string>& ids) {
  std::vector<std::string> out(ids);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

[[noreturn]] void name_taken(const std::string& name) {
  throw Error(ErrorKind::kBadData,
              "a global concurrency limit named \"" + name + "\" already exists");
}

// A slot operation of several statements, all or nothing (repositories.hpp): a savepoint of the
// caller's transaction when one is open, else a transaction of its own (READ COMMITTED, as
// WriteTransaction's), committed at the end. One statement needs neither: it is atomic by itself.
// Savepoints nest: each RELEASE and ROLLBACK TO applies to the innermost open one of the name.
class Atomic {
 public:
  explicit Atomic(Connection& conn) : conn_(conn), own_(!conn.in_transaction()) {
    conn_.exec(own_ ? "BEGIN ISOLATION LEVEL READ COMMITTED" : "SAVEPOINT runctl_atomic");
  }
  ~Atomic() {
    if (!open_) return;
    try {
      undo();
    } catch (const Error&) {
      // The error that left the operation unfinished is the one worth reporting.
    }
  }
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  void commit() {
    if (!own_) {
      conn_.exec("RELEASE runctl_atomic");
      open_ = false;
      return;
    }
    open_ = false;  // COMMIT ends the transaction whatever it answers
    Result r;
    try {
      r = conn_.exec("COMMIT");
    } catch (const Error& e) {
      conn_.clear_failure();
      if (e.kind() == ErrorKind::kUnavailable)
        throw Error(e.kind(),
                    std::string(e.what()) +
                        " (during COMMIT: the transaction may or may not have committed)");
      throw;
    }
    conn_.clear_failure();
    if (std::string_view(libpq().PQcmdStatus(r.get())) != "COMMIT")
      throw Error(ErrorKind::kIo,
                  "database error on " + conn_.name() + ": the server rolled the transaction back");
  }
  void rollback() { undo(); }

 private:
  void undo() {
    open_ = false;
    // A lost connection has already ended the transaction.
    if (!conn_.in_transaction()) return;
    conn_.discard_deferred();  // queued after the savepoint or BEGIN, which flushed the rest
    if (own_) {
      conn_.exec("ROLLBACK");
      conn_.clear_failure();
    } else {
      conn_.exec("ROLLBACK TO runctl_atomic");
      conn_.clear_failure();
      conn_.exec("RELEASE runctl_atomic");
    }
  }

  Connection& conn_;
  const bool own_;  // a transaction of its own, not a savepoint of the caller's
  bool open_ = true;
};

Params slot_params(const std::string& id, Timestamp now, std::int64_t slots) {
  Params p;
  p.text(id).time(now).int64(slots);
  return p;
}

}  // namespace

PostgresConcurrency::PostgresConcurrency(Connection& conn, int busy_timeout_ms)
    : conn_(conn), busy_timeout_ms_(busy_timeout_ms) {}

PostgresConcurrency::~PostgresConcurrency() = default;

// ---------------------------------------------------------------------------------------------
// V1.

V1Limit PostgresConcurrency::upsert_v1_limit(const std::string& new_id, const std::string& tag,
                                             std::int64_t limit, Timestamp now) {
  // One statement: of two creates at once, the second updates the row the first inserted.
  static const std::string sql =
      std::string(
          "INSERT INTO concurrency_limit (id, created, updated, tag, concurrency_limit, "
          "active_slots) VALUES ($1, $2, $2, $3, $4, '[]') ON CONFLICT (tag) DO UPDATE SET "
          "concurrency_limit = excluded.concurrency_limit, updated = excluded.updated "
          "RETURNING ") +
      kV1Columns;
  const Result r = conn_.exec(sql, Params().text(new_id).time(now).text(tag).int64(limit));
  return read_v1_rows(r, conn_.name()).at(0);
}

std::optional<V1Limit> PostgresConcurrency::v1_limit_by_tag(const std::string& tag) {
  static const Locking sql(std::string("SELECT ") + kV1Columns +
                           " FROM concurrency_limit WHERE tag = $1");
  const bool lock = conn_.in_transaction();
  return first(read_v1_rows(conn_.exec(lock ? sql.for_update : sql.plain, Params().text(tag)),
                            conn_.name()));
}

std::vector<V1Limit> PostgresConcurrency::v1_limits_for_tags(const std::vector<std::string>& tags) {
  if (tags.empty()) return {};
  // Locked in tag order (the rows are locked as the sorted result is read), so two transitions
  // that share tags never wait for each other in a cycle.
  static const Locking sql(std::string("SELECT ") + kV1Columns +
                           " FROM concurrency_limit WHERE tag = ANY($1::text[]) ORDER BY tag");
  const bool lock = conn_.in_transaction();
  return read_v1_rows(
      conn_.exec(lock ? sql.for_update : sql.plain, Params().text(text_array(tags))), conn_.name());
}

std::vector<V1Limit> PostgresConcurrency::list_v1_limits() {
  static const std::string sql =
      std::string("SELECT ") + kV1Columns + " FROM concurrency_limit ORDER BY tag";
  return read_v1_rows(conn_.exec(sql), conn_.name());
}

bool PostgresConcurrency::set_v1_active_slots(const std::string& tag,
                                              const std::vector<std::string>& slots,
                                              Timestamp now) {
  // A set: stored sorted so the same holders always give the same row (the SQLite text).
  const std::set<std::string> unique(slots.begin(), slots.end());
  const std::string text = to_text(Json(std::vector<std::string>(unique.begin(), unique.end())));
  return conn_
             .exec("UPDATE concurrency_limit SET active_slots = $2, updated = $3 WHERE tag = $1",
                   Params().text(tag).text(text).time(now))
             .affected() > 0;
}

bool PostgresConcurrency::delete_v1_limit(const std::string& tag) {
  return conn_.exec("DELETE FROM concurrency_limit WHERE tag = $1", Params().text(tag)).affected() >
         0;
}

// ---------------------------------------------------------------------------------------------
// V2.

void PostgresConcurrency::insert_v2_limit(const V2Limit& limit) {
  // A taken name (or id) inserts nothing, leaving the transaction usable, as SQLite's does.
  static const std::string sql = std::string("INSERT INTO concurrency_limit_v2 (") + kV2Columns +
                                 ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                                 "ON CONFLICT DO NOTHING";
  if (conn_.exec(sql, v2_params(limit)).affected() == 0) name_taken(limit.name);
}

bool PostgresConcurrency::update_v2_limit(const V2Limit& limit) {
  // The name is checked first so that a clash is reported as such, not as a failed statement.
  const Result clash = conn_.exec("SELECT 1 FROM concurrency_limit_v2 WHERE name = $1 AND id <> $2",
                                  Params().text(limit.name).text(limit.id));
  if (!clash.empty()) name_taken(limit.name);
  return conn_
             .exec(
                 "UPDATE concurrency_limit_v2 SET created = $2, updated = $3, name = $4, "
                 "\"limit\" = $5, active = $6, active_slots = $7, denied_slots = $8, "
                 "slot_decay_per_second = $9, avg_slot_occupancy_seconds = $10 WHERE id = $1",
                 v2_params(limit))
             .affected() > 0;
}

std::optional<V2Limit> PostgresConcurrency::v2_limit_by_id(const std::string& id) {
  static const Locking sql(std::string("SELECT ") + kV2Columns +
                           " FROM concurrency_limit_v2 WHERE id = $1");
  const bool lock = conn_.in_transaction();
  return first(
      read_v2_rows(conn_.exec(lock ? sql.for_update : sql.plain, Params().text(id)), conn_.name()));
}

std::optional<V2Limit> PostgresConcurrency::v2_limit_by_name(const std::string& name) {
  static const Locking sql(std::string("SELECT ") + kV2Columns +
                           " FROM concurrency_limit_v2 WHERE name = $1");
  const bool lock = conn_.in_transaction();
  return first(read_v2_rows(conn_.exec(lock ? sql.for_update : sql.plain, Params().text(name)),
                            conn_.name()));
}

std::vector<V2Limit> PostgresConcurrency::v2_limits_by_names(
    const std::vector<std::string>& names) {
  if (names.empty()) return {};
  static const Locking sql(std::string("SELECT ") + kV2Columns +
                           " FROM concurrency_limit_v2 WHERE name = ANY($1::text[]) ORDER BY name");
  const bool lock = conn_.in_transaction();
  return read_v2_rows(
      conn_.exec(lock ? sql.for_update : sql.plain, Params().text(text_array(names))),
      conn_.name());
}

std::vector<V2Limit> PostgresConcurrency::list_v2_limits() {
  static const std::string sql =
      std::string("SELECT ") + kV2Columns + " FROM concurrency_limit_v2 ORDER BY name";
  return read_v2_rows(conn_.exec(sql), conn_.name());
}

bool PostgresConcurrency::delete_v2_limit(const std::string& id) {
  return conn_.exec("DELETE FROM concurrency_limit_v2 WHERE id = $1", Params().text(id))
             .affected() > 0;
}

bool PostgresConcurrency::increment(const std::vector<std::string>& ids, std::int64_t slots,
                                    Timestamp now) {
  // Prefect's `id IN (...)` matches each row once: a repeated id counts toward the expected
  // total but updates nothing twice, so the increment cannot succeed (as on SQLite).
  const std::vector<std::string> unique = sorted_unique(ids);
  if (unique.size() != ids.size()) return false;
  // One conditional UPDATE per limit, in id order (so two increments never wait for each other in
  // a cycle); a refusal undoes the limits already taken.
  if (unique.empty()) return true;
  if (unique.size() == 1)
    return conn_.exec(kIncrementSql, slot_params(unique[0], now, slots)).affected() > 0;
  Atomic atomic(conn_);
  for (const std::string& id : unique) {
    if (conn_.exec(kIncrementSql, slot_params(id, now, slots)).affected() == 0) {
      atomic.rollback();
      return false;
    }
  }
  atomic.commit();
  return true;
}

bool PostgresConcurrency::decrement(const std::vector<std::string>& ids, std::int64_t slots,
                                    Timestamp now, std::optional<double> occupancy_seconds) {
  // Only the reaper reports an occupancy: what one slot was held for, at least 0.1 s.
  std::optional<double> per_slot;
  if (occupancy_seconds && *occupancy_seconds != 0)
    per_slot = std::max(*occupancy_seconds / static_cast<double>(slots), 0.1);
  const std::vector<std::string> unique = sorted_unique(ids);
  auto one = [&](const std::string& id) {
    Params p = slot_params(id, now, slots);
    if (per_slot)
      p.real(*per_slot);
    else
      p.null();
    return conn_.exec(kDecrementSql, p).affected();
  };
  std::int64_t matched = 0;  // rows really updated, as Prefect's rowcount
  if (unique.size() == 1) {
    matched = one(unique[0]);
  } else if (unique.size() > 1) {
    Atomic atomic(conn_);
    for (const std::string& id : unique) matched += one(id);
    atomic.commit();
  }
  return matched == static_cast<std::int64_t>(ids.size());
}

// ---------------------------------------------------------------------------------------------
// Flows and deployments.

FlowInfo PostgresConcurrency::ensure_flow(const std::string& new_id, const std::string& name,
                                          Timestamp now) {
  // Of two processes creating the flow at once, the second waits for the first's insert and
  // then finds its row.
  conn_.exec(
      "INSERT INTO flow (id, created, name, tags) VALUES ($1, $2, $3, '[]') "
      "ON CONFLICT (name) DO NOTHING",
      Params().text(new_id).time(now).text(name));
  const Result r =
      conn_.exec("SELECT id, name, tags FROM flow WHERE name = $1", Params().text(name));
  RowReader rr(r, 0, conn_.name(), "flow", name);
  if (r.empty())
    throw Error(ErrorKind::kIo,
                "database error on " + conn_.name() + ": flow " + name + " vanished");
  return FlowInfo{rr.text(0), rr.text(1), rr.strings(2)};
}

std::optional<FlowInfo> PostgresConcurrency::read_flow(const std::string& id) {
  const Result r = conn_.exec("SELECT id, name, tags FROM flow WHERE id = $1", Params().text(id));
  if (r.empty()) return std::nullopt;
  RowReader rr(r, 0, conn_.name(), "flow", id);
  return FlowInfo{rr.text(0), rr.text(1), rr.strings(2)};
}

void PostgresConcurrency::insert_deployment(const Deployment& d) {
  Params p;
  p.text(d.id).time(d.created).text(d.name).text(d.flow_id).text(to_text(Json(d.tags)));
  p.opt_text(d.concurrency_limit_id);
  if (d.concurrency_options)
    p.text(to_text(concurrency_options_to_json(d.concurrency_options)));
  else
    p.null();
  const Result r = conn_.exec(
      "INSERT INTO deployment (id, created, updated, name, flow_id, tags, concurrency_limit_id, "
      "concurrency_options) VALUES ($1, $2, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
      p);
  if (r.affected() > 0) return;
  if (!conn_.exec("SELECT 1 FROM deployment WHERE id = $1", Params().text(d.id)).empty())
    throw Error(ErrorKind::kBadData, "a deployment with id " + d.id + " already exists");
  throw Error(ErrorKind::kBadData, "the flow already has a deployment named \"" + d.name + "\"");
}

std::optional<Deployment> PostgresConcurrency::read_deployment(const std::string& id) {
  static const std::string sql =
      std::string("SELECT ") + kDeploymentColumns + " FROM deployment WHERE id = $1";
  return first(read_deployment_rows(conn_.exec(sql, Params().text(id)), conn_.name()));
}

std::vector<Deployment> PostgresConcurrency::list_deployments() {
  static const std::string sql =
      std::string("SELECT ") + kDeploymentColumns + " FROM deployment ORDER BY created, id";
  return read_deployment_rows(conn_.exec(sql), conn_.name());
}

RefMatches PostgresConcurrency::match_deployments(const RefQuery& query, int limit) {
  return pg::matches(conn_, reference_sql("deployment", "name", query, limit, pg::placeholder),
                     limit);
}

// ---------------------------------------------------------------------------------------------
// Leases.

void PostgresConcurrency::insert_lease(const Lease& lease) {
  conn_.exec(
      "INSERT INTO concurrency_lease (id, created_at, expiration, slots, holder_type, "
      "holder_id, origin_run_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      Params()
          .text(lease.id)
          .time(lease.created_at)
          .time(lease.expiration)
          .int64(lease.slots)
          .opt_text(lease.holder ? std::optional(lease.holder->type) : std::nullopt)
          .opt_text(lease.holder ? std::optional(lease.holder->id) : std::nullopt)
          .opt_text(lease.origin_run_id));
  if (lease.resource_ids.empty()) return;
  // Every limit in one statement, positions in the given order.
  conn_.exec(
      "INSERT INTO concurrency_lease_resource (lease_id, position, limit_id) "
      "SELECT $1, r.n - 1, r.limit_id FROM unnest($2::text[]) WITH ORDINALITY AS r (limit_id, n)",
      Params().text(lease.id).text(text_array(lease.resource_ids)));
}

RefMatches PostgresConcurrency::match_leases(const std::string& id_prefix, int limit) {
  const RefQuery query{RefQuery::By::kIdPrefix, id_prefix};
  return pg::matches(
      conn_, reference_sql("concurrency_lease", nullptr, query, limit, pg::placeholder), limit);
}

std::optional<Lease> PostgresConcurrency::read_lease(const std::string& id) {
  // Locked inside a write transaction: of two processes releasing one lease, the second finds
  // it gone once the first commits, instead of freeing its slots twice.
  static const Locking sql(
      std::string("SELECT ") + kLeaseColumns + " FROM concurrency_lease AS l WHERE l.id = $1",
      " FOR UPDATE OF l");
  const bool lock = conn_.in_transaction();
  return first(read_lease_rows(conn_.exec(lock ? sql.for_update : sql.plain, Params().text(id)),
                               conn_.name()));
}

bool PostgresConcurrency::set_lease_expiration(const std::string& id, Timestamp expiration) {
  return conn_
             .exec("UPDATE concurrency_lease SET expiration = $2 WHERE id = $1",
                   Params().text(id).time(expiration))
             .affected() > 0;
}

bool PostgresConcurrency::delete_lease(const std::string& id) {
  return conn_.exec("DELETE FROM concurrency_lease WHERE id = $1", Params().text(id)).affected() >
         0;
}

std::vector<Lease> PostgresConcurrency::leases_for_limit(const std::string& limit_id) {
  static const std::string sql =
      std::string("SELECT ") + kLeaseColumns +
      " FROM concurrency_lease AS l WHERE l.id IN (SELECT lease_id FROM "
      "concurrency_lease_resource WHERE limit_id = $1) ORDER BY l.created_at, l.id";
  return read_lease_rows(conn_.exec(sql, Params().text(limit_id)), conn_.name());
}

std::vector<Lease> PostgresConcurrency::list_leases() {
  static const std::string sql = std::string("SELECT ") + kLeaseColumns +
                                 " FROM concurrency_lease AS l ORDER BY l.expiration, l.id";
  return read_lease_rows(conn_.exec(sql), conn_.name());
}

std::vector<Lease> PostgresConcurrency::expired_leases(Timestamp now,
                                                       const std::vector<std::string>* limit_ids) {
  if (limit_ids) {
    static const std::string sql =
        std::string("SELECT ") + kLeaseColumns +
        " FROM concurrency_lease AS l WHERE l.expiration < $1 AND l.id IN (SELECT lease_id "
        "FROM concurrency_lease_resource WHERE limit_id = ANY($2::text[])) "
        "ORDER BY l.expiration, l.id";
    return read_lease_rows(conn_.exec(sql, Params().time(now).text(text_array(*limit_ids))),
                           conn_.name());
  }
  static const std::string sql = std::string("SELECT ") + kLeaseColumns +
                                 " FROM concurrency_lease AS l WHERE l.expiration < $1 "
                                 "ORDER BY l.expiration, l.id";
  return read_lease_rows(conn_.exec(sql, Params().time(now)), conn_.name());
}

std::vector<Lease> PostgresConcurrency::reap_expired_leases(
    Timestamp now, const std::vector<std::string>* limit_ids) {
  std::vector<Lease> expired = expired_leases(now, limit_ids);
  if (expired.empty()) return {};  // the common case: nothing to write, no round trip more
  std::vector<Lease> reaped;
  Atomic atomic(conn_);  // a lease's revocation and the slots it frees commit together
  for (Lease& lease : expired) {
    // Only the process whose DELETE removed the lease frees its slots: of two reapers, the
    // second's DELETE waits for the first's and then finds no row.
    if (!delete_lease(lease.id)) continue;
    const double occupancy = static_cast<double>(now - lease.created_at) / kMicrosPerSecond;
    decrement(lease.resource_ids, lease.slots, now, occupancy);
    reaped.push_back(std::move(lease));
  }
  atomic.commit();
  return reaped;
}

}  // namespace runctl::pg
