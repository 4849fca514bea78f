// history --format mermaid|dot: a run's states in time order, with the attempts the
// orchestration log holds that were not accepted (REJECT, WAIT, ABORT) hung where they happened.
#pragma once
#include <ostream>
#include <vector>

#include "engine/run.hpp"
#include "engine/state.hpp"
#include "store/records.hpp"

namespace runctl::cli {

struct HistoryPicture {
  const Run* run = nullptr;
  std::vector<StatePtr> states;    // oldest first
  std::vector<LogEntry> attempts;  // the not accepted ones, oldest first
  bool earlier_left_out = false;   // --since or --limit cut older states off
};

// Whether a log entry goes into the picture: an accepted one made a state, which is drawn.
bool shown_attempt(const LogEntry& entry);

void print_history_mermaid(std::ostream& out, const HistoryPicture& picture);
void print_history_dot(std::ostream& out, const HistoryPicture& picture);

}  // namespace runctl::cli
