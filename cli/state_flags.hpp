// The flags that describe a proposed state, shared by set-state and the create commands.
#pragma once
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/state.hpp"

namespace runctl::cli {

struct StateFlags {
  std::string type;
  std::optional<std::string> name;
  std::optional<std::string> message;
  std::optional<std::string> details;  // JSON object of state_details fields
  std::optional<std::string> data;     // JSON value
  // Sugar for the common state_details fields; each overrides the same key of --details.
  std::optional<std::string> scheduled_time, cache_key, cache_expiration, pause_key, pause_timeout,
      transition_id;
  std::optional<bool> pause_reschedule;
};

// Adds --name/--message (set-state) or --state-name/--state-message (create, `prefix`
// "state-"), and --details / --data.
void add_state_flags(CLI::App* command, StateFlags& flags, const std::string& prefix);

// Whether any flag other than the type was given.
bool has_state_fields(const StateFlags& flags);

// Throws Error(kBadData, "FLAG: ...") when a text flag's value has a NUL byte, is not UTF-8 or is
// longer than max_bytes (util/text.hpp).
void check_text_flag(const std::string& flag, const std::optional<std::string>& value,
                     std::size_t max_bytes);

// Throws Error(kBadData) for an unknown type, malformed JSON or bad text (check_text_flag).
StateProposal to_proposal(const StateFlags& flags);

// --param KEY=JSON, repeatable: the orchestration parameters. A value that is not JSON is taken
// as a string only when it is plainly a bare word (api-version=0.8.4 reads naturally).
Json parse_parameters(const std::vector<std::string>& params);

}  // namespace runctl::cli
