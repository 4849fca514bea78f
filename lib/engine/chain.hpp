// The chain runner: the AsyncExitStack over a policy's rules and transforms in Prefect's
// models.flow_runs.set_flow_run_state / models.task_runs.set_task_run_state.
#pragma once
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "engine/rule.hpp"

namespace runctl {

// The entries of a policy that fire for one intended transition, in priority order
// (Prefect's compile_transition_rules). Transforms always qualify.
std::vector<const PolicyEntry*> compile_transition_rules(const std::vector<PolicyEntry>& policy,
                                                         MaybeType from, MaybeType to,
                                                         Trace* trace = nullptr);

// A policy's entries compiled for one intended transition: what fires, in order. Built once per
// (policy, from, to) by callers that run many transitions (apply), instead of once per request.
struct CompiledChain {
  std::vector<const PolicyEntry*> rules;
  std::vector<const PolicyEntry*> transforms;
};

struct ChainOutcome {
  // The exception that escaped the stack (an after/cleanup hook, a transform, or a retryable
  // validation error); when several did, the outermost one, as AsyncExitStack reports it.
  std::exception_ptr escaped;
  // What the caller reports as the error: the escaped exception's message, else the abort
  // reason of a rule whose before hook raised. Empty when the transition went through cleanly.
  std::optional<std::string> error;
};

// Runs `rules` then `transforms` (each already ordered; each is compiled against the intended
// transition, which is taken from the context before anything runs), validates, and exits in
// reverse order. The context holds the result.
ChainOutcome orchestrate(const std::vector<PolicyEntry>& rules,
                         const std::vector<PolicyEntry>& transforms, Context& context);

// The same with the entries already compiled for the context's intended transition (the caller
// guarantees it: compiled from the context's initial and proposed types). With tracing on, the
// compile steps are still recorded, from `rules` and `transforms`.
ChainOutcome orchestrate(const CompiledChain& compiled, const std::vector<PolicyEntry>& rules,
                         const std::vector<PolicyEntry>& transforms, Context& context);

}  // namespace runctl
