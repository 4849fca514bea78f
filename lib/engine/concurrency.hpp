// What the concurrency rules and the instrumentation transform ask of the outside world: tag
// concurrency limits (V1 and V2), deployments, concurrency leases and the event sink, as
// lib/rules/concurrency.cpp and lib/rules/instrumentation.cpp use them (docs/concurrency.md). The
// store implements it (service/concurrency_services) inside the transition's own transaction;
// Services::concurrency() hands it to the rules.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/run.hpp"
#include "engine/state.hpp"

namespace runctl {

// A V1 tag limit: Prefect's `concurrency_limit` row. active_slots is a set of task-run ids (a
// JSON list in the row, order irrelevant).
struct V1Limit {
  std::string id;
  std::string tag;
  std::int64_t limit = 0;
  std::vector<std::string> active_slots;
  Timestamp created = 0;
  Timestamp updated = 0;
};

// A V2 ("global") limit: Prefect's `concurrency_limit_v2` row. Tag limits are named "tag:<tag>",
// deployment limits "deployment:<deployment id>".
struct V2Limit {
  std::string id;
  std::string name;
  std::int64_t limit = 0;
  bool active = true;
  std::int64_t active_slots = 0;  // as stored: decay is applied by increment/decrement only
  std::int64_t denied_slots = 0;
  double slot_decay_per_second = 0;
  double avg_slot_occupancy_seconds = 2.0;
  Timestamp created = 0;
  Timestamp updated = 0;
};

enum class CollisionStrategy { kEnqueue, kCancelNew };
// "ENQUEUE", "CANCEL_NEW"
std::string_view strategy_name(CollisionStrategy s);

// A deployment's concurrency_options. Prefect's model defaults the strategy to ENQUEUE.
struct ConcurrencyOptions {
  CollisionStrategy collision_strategy = CollisionStrategy::kEnqueue;
  std::optional<std::int64_t> grace_period_seconds;  // Prefect: 60..86400, or null
};

struct FlowInfo {
  std::string id;
  std::string name;
  std::vector<std::string> tags;
};

struct Deployment {
  std::string id;
  std::string name;
  std::string flow_id;
  std::vector<std::string> tags;
  // Null when the deployment has no limit, or its limit row was deleted (ON DELETE SET NULL).
  std::optional<std::string> concurrency_limit_id;
  std::optional<ConcurrencyOptions> concurrency_options;
  Timestamp created = 0;
};

// Who holds a lease's slots, as Prefect's ConcurrencyLeaseHolder: type flow_run | task_run |
// deployment.
struct LeaseHolder {
  std::string type;
  std::string id;
};

// A concurrency lease (Prefect's ResourceLease with ConcurrencyLimitLeaseMetadata).
struct Lease {
  std::string id;
  std::vector<std::string> resource_ids;  // V2 limit ids, in the order given
  Timestamp created_at = 0;
  Timestamp expiration = 0;
  std::int64_t slots = 1;
  std::optional<LeaseHolder> holder;
  // runctl's own bookkeeping, not part of Prefect's metadata: the run whose transition created
  // the lease, so `show` can name who holds a deployment slot even when Prefect records no holder.
  std::optional<std::string> origin_run_id;
};

// Prefect's Event as InstrumentFlowRunStateTransitions builds it, stored in the log row of the
// transition that emitted it.
struct Event {
  std::int64_t seq = 0;  // assigned by the store: the order events were written in
  std::string id;
  Timestamp occurred = 0;
  std::string event;
  std::string resource_id;  // resource["prefect.resource.id"]: the column `events --run` selects
  // JSON text, as the log row stores it: a flow run writes an event on every transition and
  // hardly anyone reads one back, so an event is written as text and only parsed when shown.
  std::string resource = "{}";
  std::string related = "[]";
  std::string payload = "{}";
  std::optional<std::string> follows;
};

class ConcurrencyServices {
 public:
  virtual ~ConcurrencyServices() = default;

  // Deployments and their V2 limit (by id; null when absent).
  virtual std::optional<Deployment> read_deployment(const std::string& deployment_id) = 0;
  virtual std::optional<V2Limit> read_v2_limit(const std::string& limit_id) = 0;

  // V1 limits whose tag is one of `tags`, ordered by tag.
  virtual std::vector<V1Limit> v1_limits_for_tags(const std::vector<std::string>& tags) = 0;
  virtual std::optional<V1Limit> v1_limit_by_tag(const std::string& tag) = 0;
  // Stores a V1 row's active_slots (a set: duplicates dropped).
  virtual void set_v1_active_slots(const std::string& tag,
                                   const std::vector<std::string>& active_slots) = 0;

  // V2 limits with one of these names, active or not, ordered by name.
  virtual std::vector<V2Limit> v2_limits_by_names(const std::vector<std::string>& names) = 0;
  // Prefect's bulk_increment_active_slots, all or nothing: true iff every id names an active limit
  // with room for `slots` (after decay); only then are they all incremented.
  virtual bool increment_active_slots(const std::vector<std::string>& limit_ids,
                                      std::int64_t slots) = 0;
  // Prefect's bulk_decrement_active_slots: decrements every active limit among the ids, never
  // below 0; true iff every id matched an active limit.
  virtual bool decrement_active_slots(const std::vector<std::string>& limit_ids,
                                      std::int64_t slots) = 0;

  // Lease storage: Prefect's ConcurrencyLeaseStorage (prefect.server.concurrency.lease_storage).
  virtual Lease create_lease(const std::vector<std::string>& resource_ids, double ttl_seconds,
                             std::int64_t slots, const std::optional<LeaseHolder>& holder,
                             const std::string& origin_run_id) = 0;
  virtual std::optional<Lease> read_lease(const std::string& lease_id) = 0;
  // True if the lease exists, expired or not (Prefect's in-memory storage renews a lease the
  // repossessor has not reaped yet); its expiration becomes now + ttl.
  virtual bool renew_lease(const std::string& lease_id, double ttl_seconds) = 0;
  // Idempotent.
  virtual void revoke_lease(const std::string& lease_id) = 0;
  // (lease id, holder) of every unexpired lease on this limit that records a holder.
  virtual std::vector<std::pair<std::string, LeaseHolder>> list_holders_for_limit(
      const std::string& limit_id) = 0;

  // What the flow-run event names as related resources.
  virtual std::optional<FlowInfo> read_flow(const std::string& flow_id) = 0;
  virtual std::optional<Run> read_task_run(const std::string& task_run_id) = 0;
  // Records the transition's event; it is stored with the transition's log row.
  virtual void emit_event(const Event& event) = 0;
};

// JSON forms, as Prefect's API shapes them (runctl's output contract for the concurrency
// commands). A lease's "expired" and a limit's holders are runctl's additions.
Json v1_limit_to_json(const V1Limit& l);
Json v2_limit_to_json(const V2Limit& l);
Json lease_to_json(const Lease& l, Timestamp now);
Json concurrency_options_to_json(const std::optional<ConcurrencyOptions>& o);
// Prefect's Event fields: occurred, event, resource, related, payload, id, follows.
Json event_to_json(const Event& e);

// Prefect's truncated_to (prefect.utilities.text): "" for no or empty text; a text longer than
// `limit` characters (code points) becomes its first limit/2 characters, "...<n> additional
// characters...", and its last limit/2 characters, unless that is not shorter.
std::string truncated_to(std::size_t limit, const std::optional<std::string>& text);

// Python's datetime.isoformat() of a UTC time: "2026-01-01T12:00:00+00:00", with ".ffffff" only
// when the microseconds are not zero.
std::string python_isoformat(Timestamp t);

}  // namespace runctl
