#include "rules/families.hpp"

namespace runctl {

void add_scheduling_rules(std::vector<BuiltinEntry>&) {}

}  // namespace runctl
