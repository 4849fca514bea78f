#include "rules/families.hpp"

namespace runctl {

void add_pending_rules(std::vector<BuiltinEntry>&) {}

}  // namespace runctl
