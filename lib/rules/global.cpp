#include "rules/families.hpp"

namespace runctl {

void add_global_transforms(std::vector<BuiltinEntry>&) {}

}  // namespace runctl
