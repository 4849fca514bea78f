// JSON text of states and responses written straight into a string, without building a Json
// first: the same bytes as state_to_json(...).dump(-1, ' ', false, replace) and friends, at a
// fraction of the cost (no per-key allocation, no tree). Hot paths use them (state rows, apply's
// output); the Json forms in state_json.hpp stay the reference the tests compare against.
#pragma once
#include <string>
#include <string_view>

#include "engine/response.hpp"
#include "engine/state.hpp"

namespace runctl {

// A JSON string literal. Plain printable ASCII is copied as is; anything else (escapes, UTF-8,
// invalid bytes) goes through nlohmann's serializer, so the output never differs from it.
void append_json_string(std::string& out, std::string_view text);
// Any JSON value, compact, invalid UTF-8 replaced: what runctl stores and prints.
void append_json(std::string& out, const Json& value);

void append_state_details_text(std::string& out, const StateDetails& details);
void append_state_text(std::string& out, const State& state);
void append_state_text(std::string& out, const StatePtr& state);  // "null" for no state
void append_response_details_text(std::string& out, const ResponseDetails& details);

std::string state_details_text(const StateDetails& details);

// Reads state_details text in exactly the form append_state_details_text writes (every key, in
// order, no spaces) whose values are plainly valid: canonical lower-case UUIDs, printable-ASCII
// strings, canonical timestamps, a null run_input_keyset. That is what runctl stores, and reading
// it this way skips building a Json tree. Anything else returns false and leaves `details`
// untouched: the caller then parses it the general way (apply_state_details), which also
// reports what is wrong.
bool parse_canonical_state_details(std::string_view text, StateDetails& details);

}  // namespace runctl
