// How an orchestration log row's proposal and response details are stored, the same on every
// backend. A log row keeps what an operator needs without what its state row already holds:
// the proposal's state_details in their stored form (defaults left out), and a plain ACCEPT's
// details (no reason, no delay) as NULL. Reading puts both back, so load_log returns what was
// logged, and rows written before schema 5 (full texts) read the same way. The entry that decided
// (LogEntry::decided_by) is stored in the details object under "decided_by": a plain ACCEPT has
// none, so the column stays NULL for most rows, and no schema change was needed for it.
#pragma once
#include <optional>
#include <string>

#include "engine/state.hpp"
#include "store/records.hpp"

namespace runctl {

// The proposal as a log row stores it: its state text with stored state_details.
std::string stored_proposal_text(const State& proposal);
// The proposal as logged: state_details back in their full form. Null stays null.
Json proposal_from_stored(Json stored, const std::string& where);

// An entry's details and decided_by as stored: nullopt for a plain ACCEPT no entry decided.
std::optional<std::string> stored_details_text(const LogEntry& entry);
// Sets entry.details and entry.decided_by from the stored column (null: a plain ACCEPT).
void details_from_stored(Json stored, LogEntry& entry);

}  // namespace runctl
