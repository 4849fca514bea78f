// --seed / RUNCTL_SEED as a number, for commands that need a fresh random source per
// transition (policy matrix) rather than Invocation::random()'s one. Kept out of invocation.hpp,
// which every command includes.
#pragma once
#include <cstdint>
#include <optional>

#include "cli/invocation.hpp"

namespace runctl::cli {

// Nullopt when neither is given. Throws Error(kUsage) naming the source, as Invocation::random()
// does.
std::optional<std::uint64_t> seed_option(const GlobalOptions& options);

}  // namespace runctl::cli
