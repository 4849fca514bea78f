#include "rules/families.hpp"

namespace runctl {

void add_task_run_rules(std::vector<BuiltinEntry>&) {}

}  // namespace runctl
