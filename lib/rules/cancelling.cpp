#include "rules/families.hpp"

namespace runctl {

void add_cancelling_rules(std::vector<BuiltinEntry>&) {}

}  // namespace runctl
