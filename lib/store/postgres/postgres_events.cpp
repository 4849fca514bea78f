// Events, which live in the log rows of the transitions that emitted them, read in log id order
// by a follower (`events --follow`) that resumes after the last id it saw.
//
// PostgreSQL hands out sequence values when a transaction asks, not when it commits: a
// transaction that took id 7 may commit after another one committed id 8. A follower that read
// 8 and then resumed "after 8" would never see 7. So a reader returns only ids it knows are
// final, that is, no id below them can still appear:
//
// - Ids after the caller's cursor with no gap between (every id in (after, M] visible in one
//   snapshot) are final: there is nothing left to commit in between. That is the common case
//   and costs one statement.
// - A gap is an id not committed (yet): a transaction still open holds it, or one rolled back
//   burned it. Every log id is taken by a transaction that already has its transaction id
//   (runctl_next_log_id() in schema/postgres/), so once every transaction open right after the
//   gap was seen has ended, whatever is still missing below M never comes. The reader waits for
//   that (up to the busy timeout, polling pg_locks for their transaction id locks), then returns
//   everything up to M.
// - If they are still open past the busy timeout (a long `apply --commit-every` group), the
//   reader returns the ids below the first gap only; the rest come on a later call.
//
// Writers pay nothing for this beyond the log id function; readers wait only when they meet a
// gap, and only for transactions of this database.
#include <chrono>
#include <thread>

#include "store/postgres/postgres_concurrency.hpp"

namespace runctl::pg {
namespace {

constexpr std::string_view kFlowRunResource = "prefect.flow-run.";

#define RUNCTL_EVENT_COLUMNS                                                               \
  "id, validated_state_id, event_occurred, event, run_id, event_resource, event_related, " \
  "event_payload, event_follows"

// $1 after, $2 the most to return (NULL: all), $3 since ('' for none) [, $4 run id]: the events
// after the cursor, each with how many log rows (events or not) the snapshot holds in
// (after, the last event's id].
constexpr const char* kEventsSql[2] = {
    "WITH ev AS (SELECT " RUNCTL_EVENT_COLUMNS
    " FROM orchestration_log WHERE id > $1 AND event IS NOT NULL AND event_occurred >= $3 ORDER "
    "BY id LIMIT $2) "
    "SELECT ev.*, (SELECT count(*) FROM orchestration_log WHERE id > $1 AND id <= "
    "(SELECT max(id) FROM ev)) FROM ev ORDER BY id",
    "WITH ev AS (SELECT " RUNCTL_EVENT_COLUMNS
    " FROM orchestration_log WHERE run_id = $4 AND id > $1 AND event IS NOT NULL AND "
    "event_occurred >= $3 ORDER BY id LIMIT $2) "
    "SELECT ev.*, (SELECT count(*) FROM orchestration_log WHERE id > $1 AND id <= "
    "(SELECT max(id) FROM ev)) FROM ev ORDER BY id",
};

// $1 after, $2 M, $3 limit, $4 since [, $5 run id]: the events in (after, M], once every id there
// is final.
constexpr const char* kEventsUpToSql[2] = {
    "SELECT " RUNCTL_EVENT_COLUMNS
    " FROM orchestration_log WHERE id > $1 AND id <= $2 AND event IS NOT NULL AND "
    "event_occurred >= $4 ORDER BY id LIMIT $3",
    "SELECT " RUNCTL_EVENT_COLUMNS
    " FROM orchestration_log WHERE run_id = $5 AND id > $1 AND id <= $2 AND event IS NOT NULL "
    "AND event_occurred >= $4 ORDER BY id LIMIT $3",
};

// $1 after, $2 M, $3 limit, $4 since [, $5 run id]: the events below the first id in (after, M]
// that this snapshot lacks.
#define RUNCTL_FIRST_GAP                                                                         \
  "WITH gap AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM orchestration_log WHERE id = "        \
  "$1::bigint + 1) THEN $1::bigint + 1 ELSE (SELECT min(id) + 1 FROM (SELECT id, lead(id) OVER " \
  "(ORDER BY id) AS "                                                                            \
  "next FROM orchestration_log WHERE id > $1::bigint AND id <= $2::bigint) AS t WHERE next IS "  \
  "NULL OR next "                                                                                \
  "<> id + 1) END AS id) "
constexpr const char* kEventsBeforeGapSql[2] = {
    RUNCTL_FIRST_GAP "SELECT " RUNCTL_EVENT_COLUMNS
                     " FROM orchestration_log WHERE id > $1 AND id < (SELECT id FROM gap) AND "
                     "event IS NOT NULL AND event_occurred >= $4 ORDER BY id LIMIT $3",
    RUNCTL_FIRST_GAP "SELECT " RUNCTL_EVENT_COLUMNS
                     " FROM orchestration_log WHERE run_id = $5 AND id > $1 AND id < (SELECT id "
                     "FROM gap) AND event IS NOT NULL AND event_occurred >= $4 ORDER BY id "
                     "LIMIT $3",
};

#undef RUNCTL_FIRST_GAP
#undef RUNCTL_EVENT_COLUMNS

// The transaction ids of this database's open transactions, other than this session's, as a
// PostgreSQL array literal.
constexpr const char* kOpenTransactionsSql =
    "SELECT coalesce(array_agg(l.transactionid::text), '{}')::text FROM pg_locks AS l "
    "WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted AND "
    "l.pid <> pg_backend_pid() AND l.pid IN (SELECT pid FROM pg_stat_activity "
    "WHERE datname = current_database())";
constexpr const char* kStillOpenSql =
    "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' "
    "AND granted AND transactionid = ANY($1::xid[])";

std::vector<Event> read_events(const Result& r, const std::string& db) {
  std::vector<Event> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    Event e;
    const std::string row = r.text(i, 0);
    RowReader rr(r, i, db, "event", row);
    e.seq = rr.int64(0);
    e.id = rr.text(1);
    e.occurred = rr.time(2);
    e.event = rr.text(3);
    e.resource_id = std::string(kFlowRunResource) + rr.text(4);
    e.resource = rr.json_text(5);
    e.related = rr.json_text(6);
    e.payload = rr.json_text(7);
    e.follows = rr.opt_text(8);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::vector<Event> PostgresConcurrency::list_events(const std::optional<std::string>& resource_id,
                                                    std::int64_t after_seq,
                                                    std::optional<std::int64_t> max_count,
                                                    std::optional<Timestamp> since) {
  std::optional<std::string> run_id;
  if (resource_id) {
    // Every event is a flow run's: any other resource has none.
    if (!resource_id->starts_with(kFlowRunResource)) return {};
    run_id = resource_id->substr(kFlowRunResource.size());
  }
  const int k = run_id ? 1 : 0;
  auto limit = [&](Params& p) {
    if (max_count)
      p.int64(*max_count);
    else
      p.null();
  };

  // The empty text sorts before every timestamp: no `since`, no bound.
  const std::string from = since ? format_timestamp(*since) : std::string();
  Params first;
  first.int64(after_seq);
  limit(first);
  first.text(from);
  if (run_id) first.text(*run_id);
  const Result r = conn_.exec(kEventsSql[k], first);
  if (r.empty()) return {};
  const int count_column = 9;
  const std::int64_t last = RowReader(r, r.rows() - 1, conn_.name(), "event", "").int64(0);
  const std::int64_t present =
      RowReader(r, 0, conn_.name(), "orchestration_log", "").int64(count_column);
  if (present == last - after_seq) return read_events(r, conn_.name());

  // A gap: wait for the transactions open now to end (see the top of this file).
  const Result open = conn_.exec(kOpenTransactionsSql);
  const std::string xids = open.text(0, 0);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms_);
  auto pause = std::chrono::milliseconds(1);
  bool ended = xids == "{}";
  while (!ended) {
    const Result still = conn_.exec(kStillOpenSql, Params().text(xids));
    ended = RowReader(still, 0, conn_.name(), "pg_locks", "").int64(0) == 0;
    if (ended || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  Params p;
  p.int64(after_seq).int64(last);
  limit(p);
  p.text(from);
  if (run_id) p.text(*run_id);
  return read_events(conn_.exec(ended ? kEventsUpToSql[k] : kEventsBeforeGapSql[k], p),
                     conn_.name());
}

std::int64_t PostgresConcurrency::newest_events_cursor(
    const std::optional<std::string>& resource_id, std::int64_t newest,
    std::optional<Timestamp> since) {
  const std::string from = since ? format_timestamp(*since) : std::string();
  // The newest event left out is the (newest + 1)-th from the end.
  Result r;
  if (resource_id) {
    if (!resource_id->starts_with(kFlowRunResource)) return 0;
    r = conn_.exec(
        "SELECT id FROM orchestration_log WHERE run_id = $1 AND event IS NOT NULL AND "
        "event_occurred >= $2 ORDER BY id DESC LIMIT 1 OFFSET $3",
        Params().text(resource_id->substr(kFlowRunResource.size())).text(from).int64(newest));
  } else {
    r = conn_.exec(
        "SELECT id FROM orchestration_log WHERE event IS NOT NULL AND event_occurred >= $1 "
        "ORDER BY id DESC LIMIT 1 OFFSET $2",
        Params().text(from).int64(newest));
  }
  return r.empty() ? 0 : RowReader(r, 0, conn_.name(), "event", "").int64(0);
}

}  // namespace runctl::pg
