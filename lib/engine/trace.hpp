// The --verbose trace: what the chain runner did, step by step, as data. The CLI renders it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/state.hpp"

namespace runctl {

struct TraceEvent {
  // compile | enter | hook | validate | exit | error
  std::string step;
  std::string entry;         // rule or transform name; empty for validation
  std::string outcome;       // e.g. "compiled", "skipped", "valid", "invalid", "fizzled", "after"
  std::string why;           // human-readable reason for the outcome, may be empty
  std::string hook;          // before | after | cleanup, for hook events
  std::int64_t micros = -1;  // time spent in the hook; -1 when not timed
  Json changes = Json::object();  // what the hook changed: status, proposed, details, parameters
};

using Trace = std::vector<TraceEvent>;

inline TraceEvent trace_event(std::string step, std::string entry, std::string outcome,
                              std::string why = "") {
  TraceEvent e;
  e.step = std::move(step);
  e.entry = std::move(entry);
  e.outcome = std::move(outcome);
  e.why = std::move(why);
  return e;
}

}  // namespace runctl
