// What the store reads and writes besides runs and states: plain records, the same on every
// backend. Runs, states and the concurrency rows (limits, leases, deployments, events) are the
// engine's own types (engine/run.hpp, engine/state.hpp, engine/concurrency_records.hpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/concurrency_records.hpp"  // Event
#include "engine/run.hpp"
#include "engine/signature.hpp"
#include "engine/state.hpp"

namespace runctl {

// One row of the orchestration log: a set-state attempt, whatever its outcome.
struct LogEntry {
  std::int64_t id = 0;  // assigned by RunRepository::insert_log, increasing
  std::string run_id;
  RunKind run_kind = RunKind::kFlow;
  Timestamp at = 0;
  std::optional<StateType> initial_type;
  Json proposed_state;  // the proposal as given (state JSON), or null
  // When not empty, the proposal as stored_proposal_text (store/log_codec.hpp) wrote it, written
  // instead of proposed_state: dumping the Json would cost as much as the insert.
  std::string proposed_state_text;
  std::string status;  // ACCEPT | REJECT | WAIT | ABORT
  Json details;        // {"type", "reason", "delay_seconds"}
  // The rule or transform that decided (TransitionResult::decided_by); none for a plain ACCEPT.
  std::optional<std::string> decided_by;
  std::optional<std::string> validated_state_id;
  Signature rule_signature;
  Signature finalization_signature;
  std::optional<std::string> error;
  std::int64_t duration_us = 0;
  std::string policy;  // the policy's name or file
  bool forced = false;
  // The flow-run event the transition emitted (InstrumentFlowRunStateTransitions), stored with
  // this row. load_log leaves it empty: events are read with ConcurrencyRepository::list_events.
  std::optional<Event> event;
};

// One entry of the background task queue, standing in for Prefect's in-memory queue.
struct QueuedTask {
  std::string id;
  std::string task_key;
  std::string queue;  // scheduled | retry
  std::string task_run_id;
  Timestamp enqueued_at = 0;
};

// What a command-line reference (store/reference.hpp) is looked up by: the beginning of the
// canonical lower-case id, or the whole name.
struct RefQuery {
  enum class By { kIdPrefix, kName };
  By by = By::kIdPrefix;
  std::string text;
};

// One row a reference matched. `name` is empty for rows without one (leases).
struct RefMatch {
  std::string id;
  std::string name;
  RunKind kind = RunKind::kFlow;  // for runs
};

// The first rows a reference matched, by id, and how many match in all: a caller that lists the
// candidates of an ambiguous reference shows a few and counts the rest.
struct RefMatches {
  std::vector<RefMatch> first;
  std::int64_t total = 0;
};

}  // namespace runctl
