// `policy matrix` and `policy diff`, registered under the policy group by policy_commands.cpp
// (declared here, not in invocation.hpp, which every command includes).
#pragma once
#include "cli/invocation.hpp"

namespace runctl::cli {

void add_policy_matrix_commands(CLI::App* policy, Invocation& invocation);

}  // namespace runctl::cli
