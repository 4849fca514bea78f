// `policy matrix` and `policy diff`, registered under the policy group by policy_commands.cpp
// (declared here, not in app.hpp, which every command includes).
#pragma once
#include "cli/app.hpp"

namespace runctl::cli {

void add_policy_matrix_commands(CLI::App* policy, App& app);

}  // namespace runctl::cli
