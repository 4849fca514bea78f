#include "service/policy_matrix.hpp"

#include <memory>
#include <utility>

#include "engine/chain.hpp"
#include "engine/context.hpp"
#include "service/detached_services.hpp"
#include "service/runs.hpp"
#include "util/error.hpp"
#include "util/random.hpp"
#include "util/uuid.hpp"

namespace runctl {
namespace {

// A proposal of `type` with nothing else set, as `set-state RUN TYPE` sends it.
StateProposal proposal_of(StateType type) {
  StateProposal proposal;
  proposal.type = type;
  return proposal;
}

// One orchestration of `run` from `initial` to a proposal of `to`, as run_transition() in
// service/transition.cpp sets it up, minus the store.
struct Orchestrated {
  Context context;
  ChainOutcome outcome;
};

Orchestrated orchestrate_in_memory(const Policy& policy, const std::vector<PolicyEntry>& transforms,
                                   Run& run, StatePtr initial, StateType to, const Clock& clock,
                                   UuidGenerator& uuids, std::uint64_t seed,
                                   DetachedServices& services) {
  // A fresh source per orchestration: each set-state is its own process seeded with --seed.
  SeededRandom random(seed);
  Orchestrated o;
  Context& c = o.context;
  c.kind = run.kind;
  c.run = &run;
  c.initial_state = std::move(initial);
  c.proposed_state = make_state(proposal_of(to), uuids.next(), clock.now());
  c.clock = &clock;
  c.uuids = &uuids;
  c.random = &random;
  c.services = &services;
  o.outcome = orchestrate(policy.rules, transforms, c);
  c.random = nullptr;  // the source dies here
  return o;
}

// The run in `from`, and that state. A default run enters it the way create_runs() does: forced,
// through the minimal policy and the global transforms, so the bookkeeping (run_count,
// start_time, ...) is what a freshly created run in that state has. A stored run keeps all its
// fields and only has its state replaced.
std::pair<Run, StatePtr> run_in_state(const MatrixRequest& request, MaybeType from,
                                      const Policy& creation, UuidGenerator& uuids,
                                      DetachedServices& services) {
  const Timestamp entered = request.now - kFromStateAge;
  if (request.run) {
    Run run = *request.run;
    StatePtr state;
    if (from) state = make_state(proposal_of(*from), uuids.next(), entered);
    run.state_id = state ? std::optional(state->id) : std::nullopt;
    run.state_type = from;
    run.state_name = state ? std::optional(state->name) : std::nullopt;
    run.state_timestamp = state ? std::optional(state->timestamp) : std::nullopt;
    return {std::move(run), std::move(state)};
  }
  Run run = default_run(request.kind, uuids.next(), entered);
  if (!from) return {std::move(run), nullptr};
  const FixedClock clock(entered);
  Orchestrated o = orchestrate_in_memory(creation, transforms_for(creation, request.kind), run,
                                         nullptr, *from, clock, uuids, request.seed, services);
  if (o.outcome.error || !o.context.validated_state)
    throw Error(ErrorKind::kHook, std::string("a new run cannot be put into ") +
                                      std::string(type_name(from)) + ": " +
                                      o.outcome.error.value_or("not accepted"));
  return {std::move(run), o.context.validated_state};
}

// As run_transition() treats what escaped the chain: a runctl::Error ends the command; anything
// else a hook threw is already the cell's error (set-state's exit 70).
void rethrow_runctl_error(const std::exception_ptr& escaped) {
  if (!escaped) return;
  try {
    std::rethrow_exception(escaped);
  } catch (const Error&) {
    throw;
  } catch (...) {
  }
}

MatrixCell cell_from(MaybeType from, StateType to, const Orchestrated& o) {
  const Context& c = o.context;
  MatrixCell cell;
  cell.from = from;
  cell.to = to;
  cell.status = c.response_status;
  const StatePtr validated = o.outcome.error ? nullptr : c.validated_state;
  if (validated) {
    cell.state_type = validated->type;
    cell.state_name = validated->name;
  }
  cell.redirected = cell.status == SetStateStatus::kReject && validated &&
                    (!c.initial_state || validated->id != c.initial_state->id);
  if (c.decided_by) cell.decided_by = *c.decided_by;
  cell.reason = c.response_details.reason;
  cell.error = o.outcome.error;
  return cell;
}

}  // namespace

Run default_run(RunKind kind, const std::string& id, Timestamp created) {
  Run run;
  run.kind = kind;
  run.id = id;
  run.name = std::string(kind_name(kind)) + "-run-" + id.substr(0, 8);
  run.created = created;
  RunSpec spec;  // no options
  spec.kind = kind;
  run.empirical_policy = default_run_policy(spec);
  return run;
}

PolicyMatrix compute_policy_matrix(const Policy& policy, const MatrixRequest& request) {
  check_policy_kind(policy, request.kind);
  PolicyMatrix matrix;
  matrix.policy = policy.name;
  matrix.kind = request.kind;
  if (request.run) matrix.run_id = request.run->id;

  const std::vector<PolicyEntry> transforms = transforms_for(policy, request.kind);
  const Policy creation = load_builtin_policy(minimal_policy(request.kind));
  const FixedClock clock(request.now);
  // Ids only name states that are never stored; seeded, so the output repeats.
  RandomUuidGenerator uuids(request.seed);
  matrix.cells.reserve(kMatrixFromStates.size() * kStateTypeCount);
  for (MaybeType from : kMatrixFromStates) {
    for (int t = 0; t < kStateTypeCount; ++t) {
      const auto to = static_cast<StateType>(t);
      DetachedServices services(request.settings, request.flow_run);
      auto [run, initial] = run_in_state(request, from, creation, uuids, services);
      const Orchestrated o = orchestrate_in_memory(policy, transforms, run, std::move(initial), to,
                                                   clock, uuids, request.seed, services);
      rethrow_runctl_error(o.outcome.escaped);
      matrix.cells.push_back(cell_from(from, to, o));
    }
  }
  return matrix;
}

bool same_decision(const MatrixCell& a, const MatrixCell& b) {
  return a.status == b.status && a.state_type == b.state_type && a.state_name == b.state_name &&
         a.redirected == b.redirected && a.reason == b.reason && a.error == b.error;
}

std::vector<CellDiff> diff_matrices(const PolicyMatrix& a, const PolicyMatrix& b) {
  std::vector<CellDiff> out;
  for (std::size_t i = 0; i < a.cells.size() && i < b.cells.size(); ++i)
    if (!same_decision(a.cells[i], b.cells[i])) out.push_back({&a.cells[i], &b.cells[i]});
  return out;
}

}  // namespace runctl
