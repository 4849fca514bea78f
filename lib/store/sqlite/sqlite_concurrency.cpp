#include "store/sqlite/sqlite_concurrency.hpp"

#include <sqlite3.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>

#include "engine/concurrency_json.hpp"
#include "store/sqlite/sqlite_reference.hpp"
#include "store/sqlite/sqlite_support.hpp"
#include "util/error.hpp"

namespace runctl {
namespace {

using Slot = StatementSlot;

// A JSON array of strings, bound as one parameter and read with json_each(): one cached
// statement serves any number of names.
std::string json_list(const std::vector<std::string>& items) {
  return to_text(Json(items));
}

// ---------------------------------------------------------------------------------------------
// Row <-> struct.

constexpr const char* kV1Columns = "id, created, updated, tag, concurrency_limit, active_slots";

V1Limit read_v1(SQLite::Statement& s, const std::string& path) {
  V1Limit l;
  l.id = s.getColumn(0).getString();
  RowReader r(s, path, "concurrency limit", l.id);
  l.created = r.time(1);
  l.updated = r.time(2);
  l.tag = r.text(3);
  l.limit = r.int64(4);
  l.active_slots = r.strings(5);
  return l;
}

constexpr const char* kV2Columns =
    "id, created, updated, name, \"limit\", active, active_slots, denied_slots, "
    "slot_decay_per_second, avg_slot_occupancy_seconds";

V2Limit read_v2(SQLite::Statement& s, const std::string& path) {
  V2Limit l;
  l.id = s.getColumn(0).getString();
  RowReader r(s, path, "global concurrency limit", l.id);
  l.created = r.time(1);
  l.updated = r.time(2);
  l.name = r.text(3);
  l.limit = r.int64(4);
  l.active = r.int64(5) != 0;
  l.active_slots = r.int64(6);
  l.denied_slots = r.int64(7);
  l.slot_decay_per_second = r.real(8);
  l.avg_slot_occupancy_seconds = r.real(9);
  return l;
}

void bind_v2(SQLite::Statement& s, const V2Limit& l) {
  s.bind(1, l.id);
  s.bind(2, format_timestamp(l.created));
  s.bind(3, format_timestamp(l.updated));
  s.bind(4, l.name);
  s.bind(5, static_cast<std::int64_t>(l.limit));
  s.bind(6, l.active ? 1 : 0);
  s.bind(7, static_cast<std::int64_t>(l.active_slots));
  s.bind(8, static_cast<std::int64_t>(l.denied_slots));
  s.bind(9, l.slot_decay_per_second);
  s.bind(10, l.avg_slot_occupancy_seconds);
}

constexpr const char* kDeploymentColumns =
    "id, created, name, flow_id, tags, concurrency_limit_id, concurrency_options";

Deployment read_deployment_row(SQLite::Statement& s, const std::string& path) {
  Deployment d;
  d.id = s.getColumn(0).getString();
  RowReader r(s, path, "deployment", d.id);
  d.created = r.time(1);
  d.name = r.text(2);
  d.flow_id = r.text(3);
  d.tags = r.strings(4);
  d.concurrency_limit_id = r.opt_text(5);
  std::string problem;
  d.concurrency_options = concurrency_options_from_json(r.json(6), problem);
  if (!problem.empty()) r.bad(6, problem);
  return d;
}

constexpr const char* kLeaseColumns =
    "l.id, l.created_at, l.expiration, l.slots, l.holder_type, l.holder_id, l.origin_run_id, "
    "(SELECT json_group_array(limit_id) FROM (SELECT limit_id FROM concurrency_lease_resource "
    "WHERE lease_id = l.id ORDER BY position))";

Lease read_lease_row(SQLite::Statement& s, const std::string& path) {
  Lease l;
  l.id = s.getColumn(0).getString();
  RowReader r(s, path, "lease", l.id);
  l.created_at = r.time(1);
  l.expiration = r.time(2);
  l.slots = r.int64(3);
  auto holder_type = r.opt_text(4);
  auto holder_id = r.opt_text(5);
  if (holder_type && holder_id) l.holder = LeaseHolder{*holder_type, *holder_id};
  l.origin_run_id = r.opt_text(6);
  l.resource_ids = r.strings(7);
  return l;
}

// Events live in the log row of the transition that emitted them (schema 004).
constexpr const char* kEventColumns =
    "id, validated_state_id, event_occurred, event, run_id, event_resource, event_related, "
    "event_payload, event_follows";
constexpr std::string_view kFlowRunResource = "prefect.flow-run.";

Event read_event_row(SQLite::Statement& s, const std::string& path) {
  Event e;
  e.seq = s.getColumn(0).getInt64();
  const std::string row = std::to_string(e.seq);
  RowReader r(s, path, "event", row);
  e.id = r.text(1);
  e.occurred = r.time(2);
  e.event = r.text(3);
  e.resource_id = std::string(kFlowRunResource) + r.text(4);
  e.resource = r.json_text(5);
  e.related = r.json_text(6);
  e.payload = r.json_text(7);
  e.follows = r.opt_text(8);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Prefect's V2 slot arithmetic (models.concurrency_limits_v2).

// Whole seconds of decay since `updated`. A clock that goes backwards (--now earlier than the
// last update) decays nothing instead of adding slots, which Prefect's wall clock never does.
double seconds_since(Timestamp updated, Timestamp now) {
  return now > updated ? static_cast<double>(now - updated) / kMicrosPerSecond : 0.0;
}

std::int64_t active_after_decay(const V2Limit& l, Timestamp now) {
  const double decayed = std::floor(l.slot_decay_per_second * seconds_since(l.updated, now));
  return std::max<std::int64_t>(0, l.active_slots - static_cast<std::int64_t>(decayed));
}

// Denied slots decay by slot_decay_per_second, else by one per average occupancy.
std::int64_t denied_after_decay(const V2Limit& l, Timestamp now) {
  double rate = l.slot_decay_per_second;
  if (rate <= 0) rate = l.avg_slot_occupancy_seconds > 0 ? 1.0 / l.avg_slot_occupancy_seconds : 0;
  const double decayed = std::floor(rate * seconds_since(l.updated, now));
  return std::max<std::int64_t>(0, l.denied_slots - static_cast<std::int64_t>(decayed));
}

// Prefect's `id IN (...)` matches each row once: duplicates in the request count toward the
// expected total but update nothing twice.
std::vector<std::string> unique_in_order(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& id : ids)
    if (seen.insert(id).second) out.push_back(id);
  return out;
}

// The statements an Atomic runs, prepared once per connection.
struct AtomicSlots {
  Slot begin, commit, rollback, savepoint, release, rollback_to;
};

// One slot operation, all or nothing and isolated (repositories.hpp): a savepoint of the
// caller's transaction when one is open, else a write transaction of its own. BEGIN IMMEDIATE
// takes the file's write lock before the operation reads a limit, so no other connection can
// change what it read before it commits (a savepoint outside a transaction would begin a
// deferred one, which reads first and lets racing increments overcommit). Savepoints nest: each
// RELEASE and ROLLBACK TO applies to the innermost open one of the name.
class Atomic {
 public:
  Atomic(SQLite::Database& db, const std::string& path, AtomicSlots& slots)
      : db_(db), path_(path), slots_(slots), own_(sqlite3_get_autocommit(db.getHandle()) != 0) {
    guarded(path_, [&] {
      if (own_)
        Use(db_, slots_.begin, "BEGIN IMMEDIATE")->exec();
      else
        Use(db_, slots_.savepoint, "SAVEPOINT runctl_atomic")->exec();
    });
  }
  ~Atomic() {
    if (!open_) return;
    try {
      undo();
    } catch (const SQLite::Exception&) {
      // The error that left the operation unfinished is the one worth reporting.
    }
  }
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  void commit() {
    guarded(path_, [&] {
      if (own_)
        Use(db_, slots_.commit, "COMMIT")->exec();
      else
        Use(db_, slots_.release, "RELEASE runctl_atomic")->exec();
    });
    open_ = false;
  }
  void rollback() {
    open_ = false;
    guarded(path_, [&] { undo(); });
  }

 private:
  void undo() {
    // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) already rolled the whole transaction back.
    if (sqlite3_get_autocommit(db_.getHandle())) return;
    if (own_) {
      Use(db_, slots_.rollback, "ROLLBACK")->exec();
    } else {
      Use(db_, slots_.rollback_to, "ROLLBACK TO runctl_atomic")->exec();
      Use(db_, slots_.release, "RELEASE runctl_atomic")->exec();
    }
  }

  SQLite::Database& db_;
  const std::string& path_;
  AtomicSlots& slots_;
  const bool own_;  // a transaction of its own, not a savepoint of the caller's
  bool open_ = true;
};

}  // namespace

struct SqliteConcurrency::Statements {
  Slot v1_upsert, v1_by_tag, v1_for_tags, v1_list, v1_set_slots, v1_delete;
  Slot v2_insert, v2_update, v2_by_id, v2_by_name, v2_by_names, v2_list, v2_delete;
  Slot flow_insert, flow_by_name, flow_by_id;
  Slot deployment_insert, deployment_by_id, deployment_list;
  Slot lease_insert, lease_resource_insert, lease_by_id, lease_set_expiration, lease_delete;
  Slot leases_for_limit, lease_list, leases_expired, leases_expired_for_limits;
  Slot events_all, events_for_resource, events_cursor_all, events_cursor_for_resource;
  AtomicSlots atomic;
};

SqliteConcurrency::SqliteConcurrency(SQLite::Database& db, const std::string& path,
                                     int schema_version)
    : db_(db),
      path_(path),
      has_tables_(schema_version >= 3),
      has_log_events_(schema_version >= 4),
      stmts_(std::make_unique<Statements>()) {}

SqliteConcurrency::~SqliteConcurrency() = default;

// ---------------------------------------------------------------------------------------------
// V1.

V1Limit SqliteConcurrency::upsert_v1_limit(const std::string& new_id, const std::string& tag,
                                           std::int64_t limit, Timestamp now) {
  guarded(path_, [&] {
    Use s(db_, stmts_->v1_upsert,
          "INSERT INTO concurrency_limit (id, created, updated, tag, concurrency_limit, "
          "active_slots) VALUES (?1, ?2, ?2, ?3, ?4, '[]') ON CONFLICT (tag) DO UPDATE SET "
          "concurrency_limit = excluded.concurrency_limit, updated = excluded.updated");
    s->bind(1, new_id);
    s->bind(2, format_timestamp(now));
    s->bind(3, tag);
    s->bind(4, static_cast<std::int64_t>(limit));
    s->exec();
  });
  return *v1_limit_by_tag(tag);
}

std::optional<V1Limit> SqliteConcurrency::v1_limit_by_tag(const std::string& tag) {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&]() -> std::optional<V1Limit> {
    static const std::string sql =
        std::string("SELECT ") + kV1Columns + " FROM concurrency_limit WHERE tag = ?1";
    Use s(db_, stmts_->v1_by_tag, sql.c_str());
    s->bind(1, tag);
    if (!s->executeStep()) return std::nullopt;
    return read_v1(*s, path_);
  });
}

std::vector<V1Limit> SqliteConcurrency::v1_limits_for_tags(const std::vector<std::string>& tags) {
  if (!has_tables_) return {};  // an older read-only file
  if (tags.empty()) return {};
  return guarded(path_, [&] {
    static const std::string sql = std::string("SELECT ") + kV1Columns +
                                   " FROM concurrency_limit WHERE tag IN (SELECT value FROM "
                                   "json_each(?1)) ORDER BY tag";
    Use s(db_, stmts_->v1_for_tags, sql.c_str());
    s->bind(1, json_list(tags));
    std::vector<V1Limit> out;
    while (s->executeStep()) out.push_back(read_v1(*s, path_));
    return out;
  });
}

std::vector<V1Limit> SqliteConcurrency::list_v1_limits() {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&] {
    static const std::string sql =
        std::string("SELECT ") + kV1Columns + " FROM concurrency_limit ORDER BY tag";
    Use s(db_, stmts_->v1_list, sql.c_str());
    std::vector<V1Limit> out;
    while (s->executeStep()) out.push_back(read_v1(*s, path_));
    return out;
  });
}

bool SqliteConcurrency::set_v1_active_slots(const std::string& tag,
                                            const std::vector<std::string>& slots, Timestamp now) {
  // A set: stored sorted so the same holders always give the same row.
  const std::set<std::string> unique(slots.begin(), slots.end());
  return guarded(path_, [&] {
    Use s(db_, stmts_->v1_set_slots,
          "UPDATE concurrency_limit SET active_slots = ?2, updated = ?3 WHERE tag = ?1");
    s->bind(1, tag);
    s->bind(2, to_text(Json(std::vector<std::string>(unique.begin(), unique.end()))));
    s->bind(3, format_timestamp(now));
    return s->exec() > 0;
  });
}

bool SqliteConcurrency::delete_v1_limit(const std::string& tag) {
  return guarded(path_, [&] {
    Use s(db_, stmts_->v1_delete, "DELETE FROM concurrency_limit WHERE tag = ?1");
    s->bind(1, tag);
    return s->exec() > 0;
  });
}

// ---------------------------------------------------------------------------------------------
// V2.

namespace {

[[noreturn]] void name_taken(const std::string& name) {
  throw Error(ErrorKind::kBadData,
              "a global concurrency limit named \"" + name + "\" already exists");
}

}  // namespace

void SqliteConcurrency::insert_v2_limit(const V2Limit& limit) {
  try {
    static const std::string sql = std::string("INSERT INTO concurrency_limit_v2 (") + kV2Columns +
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
    Use s(db_, stmts_->v2_insert, sql.c_str());
    bind_v2(*s, limit);
    s->exec();
  } catch (const SQLite::Exception& e) {
    if (is_unique_violation(e)) name_taken(limit.name);
    throw_sqlite_error(e, path_);
  }
}

bool SqliteConcurrency::update_v2_limit(const V2Limit& limit) {
  try {
    Use s(db_, stmts_->v2_update,
          "UPDATE concurrency_limit_v2 SET created = ?2, updated = ?3, name = ?4, \"limit\" = ?5, "
          "active = ?6, active_slots = ?7, denied_slots = ?8, slot_decay_per_second = ?9, "
          "avg_slot_occupancy_seconds = ?10 WHERE id = ?1");
    bind_v2(*s, limit);
    return s->exec() > 0;
  } catch (const SQLite::Exception& e) {
    if (is_unique_violation(e)) name_taken(limit.name);
    throw_sqlite_error(e, path_);
  }
}

std::optional<V2Limit> SqliteConcurrency::v2_limit_by_id(const std::string& id) {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&]() -> std::optional<V2Limit> {
    static const std::string sql =
        std::string("SELECT ") + kV2Columns + " FROM concurrency_limit_v2 WHERE id = ?1";
    Use s(db_, stmts_->v2_by_id, sql.c_str());
    s->bind(1, id);
    if (!s->executeStep()) return std::nullopt;
    return read_v2(*s, path_);
  });
}

std::optional<V2Limit> SqliteConcurrency::v2_limit_by_name(const std::string& name) {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&]() -> std::optional<V2Limit> {
    static const std::string sql =
        std::string("SELECT ") + kV2Columns + " FROM concurrency_limit_v2 WHERE name = ?1";
    Use s(db_, stmts_->v2_by_name, sql.c_str());
    s->bind(1, name);
    if (!s->executeStep()) return std::nullopt;
    return read_v2(*s, path_);
  });
}

std::vector<V2Limit> SqliteConcurrency::v2_limits_by_names(const std::vector<std::string>& names) {
  if (!has_tables_) return {};  // an older read-only file
  if (names.empty()) return {};
  return guarded(path_, [&] {
    static const std::string sql = std::string("SELECT ") + kV2Columns +
                                   " FROM concurrency_limit_v2 WHERE name IN (SELECT value FROM "
                                   "json_each(?1)) ORDER BY name";
    Use s(db_, stmts_->v2_by_names, sql.c_str());
    s->bind(1, json_list(names));
    std::vector<V2Limit> out;
    while (s->executeStep()) out.push_back(read_v2(*s, path_));
    return out;
  });
}

std::vector<V2Limit> SqliteConcurrency::list_v2_limits() {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&] {
    static const std::string sql =
        std::string("SELECT ") + kV2Columns + " FROM concurrency_limit_v2 ORDER BY name";
    Use s(db_, stmts_->v2_list, sql.c_str());
    std::vector<V2Limit> out;
    while (s->executeStep()) out.push_back(read_v2(*s, path_));
    return out;
  });
}

bool SqliteConcurrency::delete_v2_limit(const std::string& id) {
  return guarded(path_, [&] {
    Use s(db_, stmts_->v2_delete, "DELETE FROM concurrency_limit_v2 WHERE id = ?1");
    s->bind(1, id);
    return s->exec() > 0;
  });
}

bool SqliteConcurrency::increment(const std::vector<std::string>& ids, std::int64_t slots,
                                  Timestamp now) {
  // Prefect's `id IN (...)` matches each row once: a repeated id counts toward the expected
  // total but updates nothing twice, so the increment cannot succeed (as on PostgreSQL).
  const std::vector<std::string> unique = unique_in_order(ids);
  if (unique.size() != ids.size()) return false;
  if (unique.empty()) return true;
  Atomic atomic(db_, path_, stmts_->atomic);
  // Checked in full before anything is written: Prefect's single UPDATE may change some rows and
  // report failure, but every caller then rolls back, so all-or-nothing is what it observes.
  std::vector<V2Limit> rows;
  for (const auto& id : unique) {
    auto l = v2_limit_by_id(id);
    if (!l || !l->active || active_after_decay(*l, now) + slots > l->limit) {
      atomic.rollback();
      return false;
    }
    rows.push_back(*l);
  }
  for (V2Limit& l : rows) {
    const std::int64_t active = active_after_decay(l, now);
    l.denied_slots = denied_after_decay(l, now);
    l.active_slots = active + slots;
    l.updated = now;
    // A row that refuses the write (a trigger, say) undoes the limits already taken.
    if (!update_v2_limit(l)) {
      atomic.rollback();
      return false;
    }
  }
  atomic.commit();
  return true;
}

bool SqliteConcurrency::decrement(const std::vector<std::string>& ids, std::int64_t slots,
                                  Timestamp now, std::optional<double> occupancy_seconds) {
  if (ids.empty()) return true;
  Atomic atomic(db_, path_, stmts_->atomic);
  std::size_t matched = 0;  // rows really updated, as Prefect's rowcount
  for (const auto& id : unique_in_order(ids)) {
    auto l = v2_limit_by_id(id);
    if (!l || !l->active) continue;
    const std::int64_t active = active_after_decay(*l, now);
    const std::int64_t denied = denied_after_decay(*l, now);
    // Only the reaper reports an occupancy: a weighted average over the last limit × 2 samples.
    // Prefect's SQL divides by the limit; a limit of 0 would make that NULL, so it is skipped.
    if (occupancy_seconds && *occupancy_seconds != 0 && l->limit > 0) {
      const double per_slot = std::max(*occupancy_seconds / static_cast<double>(slots), 0.1);
      const double weight = static_cast<double>(l->limit) * 2;
      l->avg_slot_occupancy_seconds = l->avg_slot_occupancy_seconds + per_slot / weight -
                                      l->avg_slot_occupancy_seconds / weight;
    }
    l->active_slots = std::max<std::int64_t>(0, active - slots);
    l->denied_slots = denied;
    l->updated = now;
    if (update_v2_limit(*l)) ++matched;
  }
  atomic.commit();
  return matched == ids.size();
}

// ---------------------------------------------------------------------------------------------
// Flows and deployments.

FlowInfo SqliteConcurrency::ensure_flow(const std::string& new_id, const std::string& name,
                                        Timestamp now) {
  return guarded(path_, [&] {
    {
      Use s(db_, stmts_->flow_insert,
            "INSERT INTO flow (id, created, name, tags) VALUES (?1, ?2, ?3, '[]') "
            "ON CONFLICT (name) DO NOTHING");
      s->bind(1, new_id);
      s->bind(2, format_timestamp(now));
      s->bind(3, name);
      s->exec();
    }
    Use s(db_, stmts_->flow_by_name, "SELECT id, name, tags FROM flow WHERE name = ?1");
    s->bind(1, name);
    s->executeStep();
    RowReader r(*s, path_, "flow", name);
    return FlowInfo{r.text(0), r.text(1), r.strings(2)};
  });
}

std::optional<FlowInfo> SqliteConcurrency::read_flow(const std::string& id) {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&]() -> std::optional<FlowInfo> {
    Use s(db_, stmts_->flow_by_id, "SELECT id, name, tags FROM flow WHERE id = ?1");
    s->bind(1, id);
    if (!s->executeStep()) return std::nullopt;
    RowReader r(*s, path_, "flow", id);
    return FlowInfo{r.text(0), r.text(1), r.strings(2)};
  });
}

void SqliteConcurrency::insert_deployment(const Deployment& d) {
  try {
    Use s(db_, stmts_->deployment_insert,
          "INSERT INTO deployment (id, created, updated, name, flow_id, tags, "
          "concurrency_limit_id, concurrency_options) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7)");
    s->bind(1, d.id);
    s->bind(2, format_timestamp(d.created));
    s->bind(3, d.name);
    s->bind(4, d.flow_id);
    s->bind(5, to_text(Json(d.tags)));
    s.opt_text(6, d.concurrency_limit_id);
    if (d.concurrency_options) {
      s->bind(7, to_text(concurrency_options_to_json(d.concurrency_options)));
    } else {
      s->bind(7);
    }
    s->exec();
  } catch (const SQLite::Exception& e) {
    if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE)
      throw Error(ErrorKind::kBadData,
                  "the flow already has a deployment named \"" + d.name + "\"");
    if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY)
      throw Error(ErrorKind::kBadData, "a deployment with id " + d.id + " already exists");
    throw_sqlite_error(e, path_);
  }
}

std::optional<Deployment> SqliteConcurrency::read_deployment(const std::string& id) {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&]() -> std::optional<Deployment> {
    static const std::string sql =
        std::string("SELECT ") + kDeploymentColumns + " FROM deployment WHERE id = ?1";
    Use s(db_, stmts_->deployment_by_id, sql.c_str());
    s->bind(1, id);
    if (!s->executeStep()) return std::nullopt;
    return read_deployment_row(*s, path_);
  });
}

std::vector<Deployment> SqliteConcurrency::list_deployments() {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&] {
    static const std::string sql =
        std::string("SELECT ") + kDeploymentColumns + " FROM deployment ORDER BY created, id";
    Use s(db_, stmts_->deployment_list, sql.c_str());
    std::vector<Deployment> out;
    while (s->executeStep()) out.push_back(read_deployment_row(*s, path_));
    return out;
  });
}

RefMatches SqliteConcurrency::match_deployments(const RefQuery& query, int limit) {
  if (!has_tables_) return {};  // an older read-only file
  return sqlite_matches(
      db_, path_, reference_sql("deployment", "name", query, limit, sqlite_placeholder), limit);
}

// ---------------------------------------------------------------------------------------------
// Leases.

void SqliteConcurrency::insert_lease(const Lease& lease) {
  guarded(path_, [&] {
    {
      Use s(db_, stmts_->lease_insert,
            "INSERT INTO concurrency_lease (id, created_at, expiration, slots, holder_type, "
            "holder_id, origin_run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      s->bind(1, lease.id);
      s->bind(2, format_timestamp(lease.created_at));
      s->bind(3, format_timestamp(lease.expiration));
      s->bind(4, static_cast<std::int64_t>(lease.slots));
      s.opt_text(5, lease.holder ? std::optional(lease.holder->type) : std::nullopt);
      s.opt_text(6, lease.holder ? std::optional(lease.holder->id) : std::nullopt);
      s.opt_text(7, lease.origin_run_id);
      s->exec();
    }
    int position = 0;
    for (const auto& limit_id : lease.resource_ids) {
      Use s(db_, stmts_->lease_resource_insert,
            "INSERT INTO concurrency_lease_resource (lease_id, position, limit_id) "
            "VALUES (?1, ?2, ?3)");
      s->bind(1, lease.id);
      s->bind(2, position++);
      s->bind(3, limit_id);
      s->exec();
    }
  });
}

std::optional<Lease> SqliteConcurrency::read_lease(const std::string& id) {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&]() -> std::optional<Lease> {
    static const std::string sql =
        std::string("SELECT ") + kLeaseColumns + " FROM concurrency_lease AS l WHERE l.id = ?1";
    Use s(db_, stmts_->lease_by_id, sql.c_str());
    s->bind(1, id);
    if (!s->executeStep()) return std::nullopt;
    return read_lease_row(*s, path_);
  });
}

RefMatches SqliteConcurrency::match_leases(const std::string& id_prefix, int limit) {
  if (!has_tables_) return {};  // an older read-only file
  const RefQuery query{RefQuery::By::kIdPrefix, id_prefix};
  return sqlite_matches(
      db_, path_, reference_sql("concurrency_lease", nullptr, query, limit, sqlite_placeholder),
      limit);
}

bool SqliteConcurrency::set_lease_expiration(const std::string& id, Timestamp expiration) {
  return guarded(path_, [&] {
    Use s(db_, stmts_->lease_set_expiration,
          "UPDATE concurrency_lease SET expiration = ?2 WHERE id = ?1");
    s->bind(1, id);
    s->bind(2, format_timestamp(expiration));
    return s->exec() > 0;
  });
}

bool SqliteConcurrency::delete_lease(const std::string& id) {
  return guarded(path_, [&] {
    Use s(db_, stmts_->lease_delete, "DELETE FROM concurrency_lease WHERE id = ?1");
    s->bind(1, id);
    return s->exec() > 0;
  });
}

std::vector<Lease> SqliteConcurrency::leases_for_limit(const std::string& limit_id) {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&] {
    static const std::string sql =
        std::string("SELECT ") + kLeaseColumns +
        " FROM concurrency_lease AS l WHERE l.id IN (SELECT lease_id FROM "
        "concurrency_lease_resource WHERE limit_id = ?1) ORDER BY l.created_at, l.id";
    Use s(db_, stmts_->leases_for_limit, sql.c_str());
    s->bind(1, limit_id);
    std::vector<Lease> out;
    while (s->executeStep()) out.push_back(read_lease_row(*s, path_));
    return out;
  });
}

std::vector<Lease> SqliteConcurrency::list_leases() {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&] {
    static const std::string sql = std::string("SELECT ") + kLeaseColumns +
                                   " FROM concurrency_lease AS l ORDER BY l.expiration, l.id";
    Use s(db_, stmts_->lease_list, sql.c_str());
    std::vector<Lease> out;
    while (s->executeStep()) out.push_back(read_lease_row(*s, path_));
    return out;
  });
}

std::vector<Lease> SqliteConcurrency::expired_leases(Timestamp now,
                                                     const std::vector<std::string>* limit_ids) {
  if (!has_tables_) return {};  // an older read-only file
  return guarded(path_, [&] {
    std::vector<Lease> out;
    if (limit_ids) {
      static const std::string sql =
          std::string("SELECT ") + kLeaseColumns +
          " FROM concurrency_lease AS l WHERE l.expiration < ?1 AND l.id IN (SELECT lease_id "
          "FROM concurrency_lease_resource WHERE limit_id IN (SELECT value FROM json_each(?2))) "
          "ORDER BY l.expiration, l.id";
      Use s(db_, stmts_->leases_expired_for_limits, sql.c_str());
      s->bind(1, format_timestamp(now));
      s->bind(2, json_list(*limit_ids));
      while (s->executeStep()) out.push_back(read_lease_row(*s, path_));
    } else {
      static const std::string sql = std::string("SELECT ") + kLeaseColumns +
                                     " FROM concurrency_lease AS l WHERE l.expiration < ?1 "
                                     "ORDER BY l.expiration, l.id";
      Use s(db_, stmts_->leases_expired, sql.c_str());
      s->bind(1, format_timestamp(now));
      while (s->executeStep()) out.push_back(read_lease_row(*s, path_));
    }
    return out;
  });
}

std::vector<Lease> SqliteConcurrency::reap_expired_leases(
    Timestamp now, const std::vector<std::string>* limit_ids) {
  std::vector<Lease> expired = expired_leases(now, limit_ids);
  if (expired.empty()) return {};  // the common case: nothing to write, no lock to take
  std::vector<Lease> reaped;
  Atomic atomic(db_, path_, stmts_->atomic);
  for (Lease& lease : expired) {
    // Only the delete that removed the lease frees its slots (the repository's contract): one
    // read before the write lock may list a lease another connection has reaped since.
    if (!delete_lease(lease.id)) continue;
    const double occupancy = static_cast<double>(now - lease.created_at) / kMicrosPerSecond;
    decrement(lease.resource_ids, lease.slots, now, occupancy);
    reaped.push_back(std::move(lease));
  }
  atomic.commit();
  return reaped;
}

// ---------------------------------------------------------------------------------------------
// Events.

std::vector<Event> SqliteConcurrency::list_events(const std::optional<std::string>& resource_id,
                                                  std::int64_t after_seq,
                                                  std::optional<std::int64_t> max_count,
                                                  std::optional<Timestamp> since) {
  if (!has_log_events_) return {};  // an older read-only file keeps them elsewhere
  return guarded(path_, [&] {
    std::vector<Event> out;
    const std::int64_t limit = max_count.value_or(-1);  // SQLite: a negative LIMIT is no limit
    // The empty text sorts before every timestamp: no `since`, no bound.
    const std::string from = since ? format_timestamp(*since) : std::string();
    if (resource_id) {
      // Every event is a flow run's: any other resource has none.
      if (!resource_id->starts_with(kFlowRunResource)) return out;
      const std::string run_id = resource_id->substr(kFlowRunResource.size());
      static const std::string sql = std::string("SELECT ") + kEventColumns +
                                     " FROM orchestration_log WHERE run_id = ?1 AND id > ?2 AND "
                                     "event IS NOT NULL AND event_occurred >= ?4 ORDER BY id "
                                     "LIMIT ?3";
      Use s(db_, stmts_->events_for_resource, sql.c_str());
      s.text(1, run_id);
      s->bind(2, static_cast<std::int64_t>(after_seq));
      s->bind(3, static_cast<std::int64_t>(limit));
      s.text(4, from);
      while (s->executeStep()) out.push_back(read_event_row(*s, path_));
    } else {
      static const std::string sql = std::string("SELECT ") + kEventColumns +
                                     " FROM orchestration_log WHERE id > ?1 AND event IS NOT NULL "
                                     "AND event_occurred >= ?3 ORDER BY id LIMIT ?2";
      Use s(db_, stmts_->events_all, sql.c_str());
      s->bind(1, static_cast<std::int64_t>(after_seq));
      s->bind(2, static_cast<std::int64_t>(limit));
      s.text(3, from);
      while (s->executeStep()) out.push_back(read_event_row(*s, path_));
    }
    return out;
  });
}

std::int64_t SqliteConcurrency::newest_events_cursor(const std::optional<std::string>& resource_id,
                                                     std::int64_t newest,
                                                     std::optional<Timestamp> since) {
  if (!has_log_events_) return 0;
  return guarded(path_, [&]() -> std::int64_t {
    const std::string from = since ? format_timestamp(*since) : std::string();
    // The newest event left out is the (newest + 1)-th from the end.
    if (resource_id) {
      if (!resource_id->starts_with(kFlowRunResource)) return 0;
      Use s(db_, stmts_->events_cursor_for_resource,
            "SELECT id FROM orchestration_log WHERE run_id = ?1 AND event IS NOT NULL AND "
            "event_occurred >= ?2 ORDER BY id DESC LIMIT 1 OFFSET ?3");
      s.text(1, resource_id->substr(kFlowRunResource.size()));
      s.text(2, from);
      s->bind(3, static_cast<std::int64_t>(newest));
      return s->executeStep() ? s->getColumn(0).getInt64() : 0;
    }
    Use s(db_, stmts_->events_cursor_all,
          "SELECT id FROM orchestration_log WHERE event IS NOT NULL AND event_occurred >= ?1 "
          "ORDER BY id DESC LIMIT 1 OFFSET ?2");
    s.text(1, from);
    s->bind(2, static_cast<std::int64_t>(newest));
    return s->executeStep() ? s->getColumn(0).getInt64() : 0;
  });
}

}  // namespace runctl
