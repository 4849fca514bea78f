// apply: JSON Lines of transitions (issue "Speed"): placeholder until implemented.
#include "cli/app.hpp"

namespace runctl::cli {

void add_apply_command(CLI::App&, App&) {}

}  // namespace runctl::cli
