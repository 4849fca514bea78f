#include "rules/families.hpp"

namespace runctl {

void add_terminal_rules(std::vector<BuiltinEntry>&) {}

}  // namespace runctl
