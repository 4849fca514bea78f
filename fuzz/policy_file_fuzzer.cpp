// Fuzzes the policy-file parser (lib/policy/policy_file.cpp) with arbitrary bytes. A bad file must
// come back as runctl::Error, never as a crash, a hang, another exception or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/policy.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const runctl::Policy policy = runctl::parse_policy(text, "fuzz.json");
    // Touch what a command does with a parsed policy: every entry's description and the
    // transforms that follow the rules for both run kinds.
    for (const runctl::PolicyEntry& e : policy.rules) (void)e.info().from_states.to_string();
    (void)runctl::transforms_for(policy, runctl::RunKind::kFlow);
    (void)runctl::transforms_for(policy, runctl::RunKind::kTask);
  } catch (const runctl::Error&) {
    // The documented outcome for a bad file.
  }
  return 0;
}
