// The rule families (one source file each, named like Prefect's groups) that fill the registry.
#pragma once
#include <vector>

#include "rules/registry.hpp"

namespace runctl {

using RuleFamily = void (*)(std::vector<BuiltinEntry>&);

// Each family appends its entries; the registry calls them in this order.
const std::vector<RuleFamily>& rule_families();

}  // namespace runctl
