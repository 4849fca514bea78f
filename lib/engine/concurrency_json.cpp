#include "engine/concurrency_json.hpp"

namespace runctl {

namespace {

template <typename T>
Json optional_json(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

}  // namespace

Json v1_limit_to_json(const V1Limit& l) {
  return Json{{"id", l.id},
              {"created", format_timestamp(l.created)},
              {"updated", format_timestamp(l.updated)},
              {"tag", l.tag},
              {"concurrency_limit", l.limit},
              {"active_slots", l.active_slots}};
}

Json v2_limit_to_json(const V2Limit& l) {
  return Json{{"id", l.id},
              {"created", format_timestamp(l.created)},
              {"updated", format_timestamp(l.updated)},
              {"active", l.active},
              {"name", l.name},
              {"limit", l.limit},
              {"active_slots", l.active_slots},
              {"denied_slots", l.denied_slots},
              {"slot_decay_per_second", l.slot_decay_per_second},
              {"avg_slot_occupancy_seconds", l.avg_slot_occupancy_seconds}};
}

Json lease_to_json(const Lease& l, Timestamp now) {
  Json holder = l.holder ? Json{{"type", l.holder->type}, {"id", l.holder->id}} : Json(nullptr);
  return Json{{"id", l.id},
              {"resource_ids", l.resource_ids},
              {"created_at", format_timestamp(l.created_at)},
              {"expiration", format_timestamp(l.expiration)},
              {"expired", l.expiration < now},
              {"metadata", {{"slots", l.slots}, {"holder", holder}}},
              {"origin_run_id", optional_json(l.origin_run_id)}};
}

Json concurrency_options_to_json(const std::optional<ConcurrencyOptions>& o) {
  if (!o) return Json(nullptr);
  return Json{{"collision_strategy", strategy_name(o->collision_strategy)},
              {"grace_period_seconds", optional_json(o->grace_period_seconds)}};
}

std::optional<ConcurrencyOptions> concurrency_options_from_json(const Json& options,
                                                                std::string& problem) {
  if (options.is_null()) return std::nullopt;
  if (!options.is_object()) {
    problem = "expected a JSON object";
    return std::nullopt;
  }
  ConcurrencyOptions o;
  const Json strategy = options.value("collision_strategy", Json("ENQUEUE"));
  if (strategy == "ENQUEUE") {
    o.collision_strategy = CollisionStrategy::kEnqueue;
  } else if (strategy == "CANCEL_NEW") {
    o.collision_strategy = CollisionStrategy::kCancelNew;
  } else {
    problem = "unknown collision_strategy " + strategy.dump();
    return std::nullopt;
  }
  const Json grace = options.value("grace_period_seconds", Json());
  if (grace.is_number_integer()) {
    o.grace_period_seconds = grace.get<std::int64_t>();
  } else if (!grace.is_null()) {
    problem = "grace_period_seconds must be an integer";
    return std::nullopt;
  }
  return o;
}

Json event_to_json(const Event& e) {
  return Json{{"occurred", format_timestamp(e.occurred)}, {"event", e.event},
              {"resource", Json::parse(e.resource)},      {"related", Json::parse(e.related)},
              {"payload", Json::parse(e.payload)},        {"id", e.id},
              {"follows", optional_json(e.follows)}};
}

}  // namespace runctl
