// How results look: the JSON contract and the text a person reads.
#pragma once
#include <iosfwd>
#include <vector>

#include "engine/state_json.hpp"
#include "policy/policy.hpp"
#include "service/transition.hpp"
#include "store/records.hpp"

namespace runctl::cli {

int exit_code_for(const TransitionResult& r);

Json transition_to_json(const TransitionResult& r, bool with_trace);
// The signatures as counts ("3 rules + 14 transforms") unless `verbose`, which lists every name.
void print_transition_text(std::ostream& out, const TransitionResult& r, bool verbose);

Json trace_to_json(const Trace& trace);
void print_trace_text(std::ostream& out, const Trace& trace);

Json run_to_json(const Run& run, const StatePtr& state);
void print_run_text(std::ostream& out, const Run& run, const StatePtr& state);

void print_history_text(std::ostream& out, const std::vector<StatePtr>& states);

Json log_entry_to_json(const LogEntry& e);
// One entry per two lines; `history` (the run's states) tells where each attempt took the run.
void print_log_text(std::ostream& out, const std::vector<LogEntry>& entries,
                    const std::vector<StatePtr>& history);

// "RUNNING 'Running'"
std::string describe(const StatePtr& s);

}  // namespace runctl::cli
