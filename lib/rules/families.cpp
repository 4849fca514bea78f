#include "rules/families.hpp"

namespace runctl {

const std::vector<RuleFamily>& rule_families() {
  static const std::vector<RuleFamily> kFamilies = {
      add_terminal_rules,
      add_cancelling_rules,
      add_pending_rules,
      add_scheduling_rules,
      add_pausing_rules,
      add_retry_rules,
      add_caching_rules,
      add_task_run_rules,
      add_global_transforms,
      add_concurrency_rules,
      add_instrumentation_transforms,
  };
  return kFamilies;
}

}  // namespace runctl
