// Fuzzes the state/details JSON parsers behind set-state's and create's flags
// (cli/state_flags.cpp: --details, --data, the sugar flags, --param) and the state JSON
// round trip. The input is up to five fields separated by newlines:
//   TYPE \n DETAILS-JSON \n DATA-JSON \n KEY=JSON (a --param) \n NAME
// Bad input must come back as runctl::Error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/state_flags.hpp"
#include "engine/state_json.hpp"
#include "util/error.hpp"

namespace {

std::vector<std::string> fields(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> out(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == '\n' && out.size() < 5)
      out.emplace_back();
    else
      out.back().push_back(static_cast<char>(data[i]));
  }
  out.resize(5);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> f = fields(data, size);
  runctl::cli::StateFlags flags;
  flags.type = f[0];
  if (!f[1].empty()) flags.details = f[1];
  if (!f[2].empty()) flags.data = f[2];
  if (!f[4].empty()) flags.name = f[4];
  try {
    const runctl::StateProposal proposal = runctl::cli::to_proposal(flags);
    // What set-state does next with an accepted proposal: a state, printed as JSON.
    const runctl::StatePtr state =
        runctl::make_state(proposal, "00000000-0000-4000-8000-000000000001", 0);
    const runctl::Json json = runctl::state_to_json(*state);
    (void)json.dump(-1, ' ', false, runctl::Json::error_handler_t::replace);
    // And the stored details read back as the store reads them.
    runctl::StateDetails again;
    runctl::apply_state_details(runctl::state_details_to_json(*state->details), again, "fuzz");
  } catch (const runctl::Error&) {
  }
  try {
    if (!f[3].empty()) (void)runctl::cli::parse_parameters({f[3]});
  } catch (const runctl::Error&) {
  }
  return 0;
}
