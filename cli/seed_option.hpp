// --seed / RUNCTL_SEED as a number, for commands that need a fresh random source per
// transition (policy matrix) rather than App::random()'s one. Kept out of app.hpp, which every
// command includes.
#pragma once
#include <cstdint>
#include <optional>

#include "cli/app.hpp"

namespace runctl::cli {

// Nullopt when neither is given. Throws Error(kUsage) naming the source, as App::random() does.
std::optional<std::uint64_t> seed_option(const GlobalOptions& options);

}  // namespace runctl::cli
