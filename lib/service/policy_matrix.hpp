// What a policy decides for every pair of states: for each current state (NONE and the nine
// types) and each proposed type, the chain's answer as `set-state --dry-run --policy P` gives it
// on a run in that state. Engine only: the run is held in memory and nothing is written.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/response.hpp"
#include "engine/run.hpp"
#include "engine/services.hpp"
#include "policy/policy.hpp"
#include "util/time.hpp"

namespace runctl {

// Row order: no state first, then Prefect's declaration order.
inline constexpr std::array<MaybeType, kStateTypeCount + 1> kMatrixFromStates = {
    std::nullopt,          StateType::kScheduled, StateType::kPending,   StateType::kRunning,
    StateType::kCompleted, StateType::kFailed,    StateType::kCancelled, StateType::kCrashed,
    StateType::kPaused,    StateType::kCancelling};

struct MatrixCell {
  MaybeType from;
  StateType to = StateType::kPending;
  SetStateStatus status = SetStateStatus::kAccept;
  // The validated state, as set-state reports it: none for WAIT and ABORT.
  std::optional<StateType> state_type;
  std::optional<std::string> state_name;
  // A REJECT that put the run into a new state (AwaitingRetry) rather than keeping its own.
  bool redirected = false;
  std::optional<std::string> decided_by;
  std::optional<std::string> reason;
  std::optional<std::string> error;  // a hook raised; set-state would exit 70
};

struct MatrixRequest {
  RunKind kind = RunKind::kFlow;
  // A stored run to use (only its current state is replaced per row). None: default_run(kind),
  // put into each from-state as `flow-run create --state` / `task-run create --state` puts it.
  std::optional<Run> run;
  // The flow run a task run belongs to, for the rules that read it.
  std::optional<RunSnapshot> flow_run;
  Timestamp now = 0;
  std::uint64_t seed = 0;  // every cell draws from a fresh source seeded with it, as --seed does
  Settings settings;
};

struct PolicyMatrix {
  std::string policy;
  RunKind kind = RunKind::kFlow;
  std::optional<std::string> run_id;  // the stored run, when one was given
  std::vector<MatrixCell> cells;      // row-major: kMatrixFromStates x the nine types
};

// How long before `now` a from-state is entered: the run was created a second earlier.
inline constexpr Timestamp kFromStateAge = kMicrosPerSecond;

// What `flow-run create` / `task-run create` make with no options: no state, no retries, no
// pause keys, no tags, no parent.
Run default_run(RunKind kind, const std::string& id, Timestamp created);

// Runs the chain for every cell. Throws Error as set-state does for a policy of the other kind.
PolicyMatrix compute_policy_matrix(const Policy& policy, const MatrixRequest& request);

// Whether two cells decide the same: status, resulting state and reason.
bool same_decision(const MatrixCell& a, const MatrixCell& b);

struct CellDiff {
  const MatrixCell* a;
  const MatrixCell* b;
};
// The cells two matrices of the same run kind decide differently, in row-major order.
std::vector<CellDiff> diff_matrices(const PolicyMatrix& a, const PolicyMatrix& b);

}  // namespace runctl
