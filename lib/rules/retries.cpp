#include "rules/families.hpp"

namespace runctl {

void add_retry_rules(std::vector<BuiltinEntry>&) {}

}  // namespace runctl
