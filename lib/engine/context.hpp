// The orchestration context threaded through every rule and transform: Prefect's
// OrchestrationContext (prefect.server.orchestration.rules).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/response.hpp"
#include "engine/run.hpp"
#include "engine/services.hpp"
#include "engine/signature.hpp"
#include "engine/state.hpp"
#include "engine/trace.hpp"
#include "util/random.hpp"
#include "util/time.hpp"
#include "util/uuid.hpp"

namespace runctl {

struct Context {
  RunKind kind = RunKind::kFlow;
  Run* run = nullptr;  // live: rules mutate it, the store persists it

  StatePtr initial_state;
  StatePtr proposed_state;
  StatePtr validated_state;

  Signature rule_signature;
  Signature finalization_signature;

  SetStateStatus response_status = SetStateStatus::kAccept;
  ResponseDetails response_details;
  // The entry whose hook last set the response (a rule's reject, delay or abort; a transform's
  // change of status or of the proposal; a before hook that raised): the interned name that
  // `decided_by` reports. Null while no entry has redirected the proposal.
  const std::string* decided_by = nullptr;
  // How many names in each signature are transforms' (the rest are rules'): `3 rules + 14
  // transforms` in the text output.
  int rule_signature_transforms = 0;
  int finalization_signature_transforms = 0;

  // Set when a rule's before hook raised: the formatted abort reason. Prefect re-raises the
  // error after the chain has unwound; runctl rolls the transaction back.
  std::optional<std::string> orchestration_error;

  Json parameters = Json::object();
  std::optional<std::string> client_version;

  const Clock* clock = nullptr;
  UuidGenerator* uuids = nullptr;
  RandomSource* random = nullptr;
  Services* services = nullptr;

  // Appended by declarative `record` actions: lets tests and operators see which hooks ran.
  std::vector<std::string> side_effects;

  Trace* trace = nullptr;  // null when tracing is off: recording then costs nothing

  MaybeType initial_type() const { return type_of(initial_state); }
  MaybeType proposed_type() const { return type_of(proposed_state); }
  Timestamp now() const { return clock->now(); }
};

// What a rule's hook receives: copies of the context's states (shallow, as
// OrchestrationContext.safe_copy makes them) and of its parameters. Assigning to them changes
// nothing; editing a details field inside a copied state edits the real one, as in Prefect. The run
// is the real one.
struct ContextCopy {
  RunKind kind;
  Run& run;
  StatePtr initial_state;
  StatePtr proposed_state;
  StatePtr validated_state;
  Json parameters;
  std::optional<std::string> client_version;
  const Clock& clock;
  RandomSource* random;
  Services* services;

  Timestamp now() const { return clock.now(); }
};

// A rule hook's error, reported without Python's class reprs: the message alone.
class HookError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Prefect's OrchestrationError (a null rejection with no state to keep).
class OrchestrationError : public HookError {
 public:
  using HookError::HookError;
};

}  // namespace runctl
