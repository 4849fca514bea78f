// The rows the concurrency rules read and write: tag concurrency limits (V1 and V2), deployments,
// concurrency leases, flows and events, as plain values (Prefect's ORM models, flattened). The
// port in engine/concurrency.hpp hands them to the rules; engine/concurrency_json.hpp prints them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/time.hpp"

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
inline std::string_view strategy_name(CollisionStrategy s) {
  return s == CollisionStrategy::kCancelNew ? "CANCEL_NEW" : "ENQUEUE";
}

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

}  // namespace runctl
