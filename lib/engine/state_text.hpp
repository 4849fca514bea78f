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
// A state's text with its state_details in the stored form (below).
void append_stored_state_text(std::string& out, const State& state);
void append_response_details_text(std::string& out, const ResponseDetails& details);

std::string state_details_text(const StateDetails& details);

// The form state rows store: only the keys that differ from a default StateDetails, in
// state_details_to_json()'s order, so a typical state's details take tens of bytes, not hundreds.
void append_stored_state_details_text(std::string& out, const StateDetails& details);
std::string stored_state_details_text(const StateDetails& details);

// Reads stored state_details text: any subset of the keys in state_details_to_json()'s order (so
// the full form rows written before schema 5 hold too), no spaces, values plainly valid:
// canonical lower-case UUIDs, printable-ASCII strings, canonical timestamps, a null
// run_input_keyset. Absent keys take their defaults. That skips building a Json tree; anything
// else returns false and leaves `details` untouched: the caller then parses it the general way
// (apply_state_details), which also reports what is wrong.
bool parse_stored_state_details(std::string_view text, StateDetails& details);

}  // namespace runctl
