#include "engine/concurrency.hpp"

#include <algorithm>
#include <vector>

namespace runctl {
namespace {

// Length of the UTF-8 sequence starting with this byte; a stray continuation or invalid byte
// counts as one character, so malformed text is still cut somewhere sensible.
std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Byte offsets where each code point starts: Python measures and slices str in code points.
std::vector<std::size_t> code_point_starts(const std::string& s) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size();) {
    starts.push_back(i);
    i += std::min(sequence_length(static_cast<unsigned char>(s[i])), s.size() - i);
  }
  return starts;
}

}  // namespace

std::string_view strategy_name(CollisionStrategy s) {
  return s == CollisionStrategy::kCancelNew ? "CANCEL_NEW" : "ENQUEUE";
}

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

Json event_to_json(const Event& e) {
  return Json{{"occurred", format_timestamp(e.occurred)}, {"event", e.event},
              {"resource", Json::parse(e.resource)},      {"related", Json::parse(e.related)},
              {"payload", Json::parse(e.payload)},        {"id", e.id},
              {"follows", optional_json(e.follows)}};
}

std::string truncated_to(std::size_t limit, const std::optional<std::string>& text) {
  if (!text || text->empty()) return "";
  const std::string& s = *text;
  // Every code point is at least one byte, so a short enough byte string needs no counting.
  if (s.size() <= limit) return s;
  const std::vector<std::size_t> starts = code_point_starts(s);
  const std::size_t length = starts.size();
  if (length <= limit) return s;
  const std::size_t half = limit / 2;
  // value[:half] and value[-half:]; with half == 0 Python's value[-0:] is the whole string.
  const std::string beginning = s.substr(0, starts[half]);
  const std::string end = half == 0 ? s : s.substr(starts[length - half]);
  const std::size_t end_length = half == 0 ? length : half;
  const std::size_t omitted = length - (half + end_length);
  const std::string proposed =
      beginning + "..." + std::to_string(omitted) + " additional characters..." + end;
  // Only if it really is shorter, in characters.
  return code_point_starts(proposed).size() < length ? proposed : s;
}

std::string python_isoformat(Timestamp t) {
  std::string text = format_timestamp(t);  // "YYYY-MM-DDTHH:MM:SS.ffffff+00:00"
  const std::size_t dot = text.find('.');
  if (dot != std::string::npos && text.compare(dot, 7, ".000000") == 0) text.erase(dot, 7);
  return text;
}

}  // namespace runctl
