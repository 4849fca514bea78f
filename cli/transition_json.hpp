// The JSON of a transition result, written once: `set-state --json` parses this text to print it
// pretty, `apply --json` prints it as it is, one line per request. A field is added here only.
#pragma once
#include <string>
#include <vector>

#include "service/transition.hpp"

namespace runctl::cli {

// The JSON text of each signature. A policy's transitions sign with a few lists, so a batch
// escapes each list once, not on every line. Names are interned (engine/signature.hpp): two
// lists are the same when they point at the same names.
class SignatureTexts {
 public:
  const std::string& text(const Signature& names);

 private:
  struct Entry {
    Signature names;
    std::string text;
  };
  std::vector<Entry> entries_;
};

// The result's members, without the braces, in the contract's order: run_id, run_kind, policy,
// initial_state, proposed_state, validated_state, status, details, decided_by, rule_signature,
// finalization_signature, parameters, side_effects, error, dry_run.
void append_transition_members(std::string& out, const TransitionResult& r,
                               SignatureTexts& signatures);

}  // namespace runctl::cli
