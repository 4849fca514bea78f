#include "rules/families.hpp"

namespace runctl {

void add_caching_rules(std::vector<BuiltinEntry>&) {}

}  // namespace runctl
