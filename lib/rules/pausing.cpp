#include "rules/families.hpp"

namespace runctl {

void add_pausing_rules(std::vector<BuiltinEntry>&) {}

}  // namespace runctl
