#include "policy/builtin_policies.hpp"

namespace runctl {

const std::vector<BuiltinPolicy>& builtin_policies() {
  static const std::vector<BuiltinPolicy> kPolicies = {
      {"CoreFlowPolicy",
       "core-flow",
       RunKind::kFlow,
       false,
       "default for flow runs: set-state without --policy",
       {"PreserveDeploymentConcurrencyLeaseId", "PreventDuplicateTransitions",
        "HandleFlowTerminalStateTransitions", "EnforceCancellingToCancelledTransition",
        "BypassCancellingFlowRunsWithNoInfra", "PreventPendingTransitions",
        "ValidateDeploymentConcurrencyAtRunning", "SecureFlowConcurrencySlots",
        "RemoveDeploymentConcurrencyLeaseForOldClientVersions",
        "EnsureOnlyScheduledFlowsMarkedLate", "HandlePausingFlows", "HandleResumingPausedFlows",
        "CopyScheduledTime", "WaitForScheduledTime", "RetryFailedFlows",
        "InstrumentFlowRunStateTransitions", "ReleaseFlowConcurrencySlots"}},
      {"CoreTaskPolicy",
       "core-task",
       RunKind::kTask,
       false,
       "default for task runs: set-state without --policy",
       {"CacheRetrieval", "HandleTaskTerminalStateTransitions",
        "PreventRunningTasksFromStoppedFlows", "SecureTaskConcurrencySlots", "CopyScheduledTime",
        "WaitForScheduledTime", "RetryFailedTasks", "RenameReruns", "UpdateFlowRunTrackerOnTasks",
        "CacheInsertion", "ReleaseTaskConcurrencySlots"}},
      {"ClientSideTaskOrchestrationPolicy",
       "client-side-task",
       RunKind::kTask,
       false,
       "CoreTaskPolicy without SecureTaskConcurrencySlots (defined by Prefect, unused by its "
       "server)",
       {"CacheRetrieval", "HandleTaskTerminalStateTransitions",
        "PreventRunningTasksFromStoppedFlows", "CopyScheduledTime", "WaitForScheduledTime",
        "RetryFailedTasks", "RenameReruns", "UpdateFlowRunTrackerOnTasks", "CacheInsertion",
        "ReleaseTaskConcurrencySlots"}},
      {"BackgroundTaskPolicy",
       "background-task",
       RunKind::kTask,
       false,
       "task proposals with state_details.deferred set, even when forced",
       {"PreventPendingTransitions", "CacheRetrieval", "HandleTaskTerminalStateTransitions",
        "CopyScheduledTime", "CopyTaskParametersID", "WaitForScheduledTime", "RetryFailedTasks",
        "RenameReruns", "UpdateFlowRunTrackerOnTasks", "CacheInsertion",
        "ReleaseTaskConcurrencySlots", "EnqueueScheduledTasks"}},
      {"MinimalFlowPolicy",
       "minimal-flow",
       RunKind::kFlow,
       false,
       "flow runs with --force, and initial states at creation",
       {"PreventResultDataLoss", "BypassCancellingFlowRunsWithNoInfra",
        "InstrumentFlowRunStateTransitions", "ReleaseFlowConcurrencySlots"}},
      {"MinimalTaskPolicy",
       "minimal-task",
       RunKind::kTask,
       false,
       "task runs with --force, and initial states at creation",
       {"ReleaseTaskConcurrencySlots"}},
      {"MarkLateRunsPolicy",
       "mark-late",
       RunKind::kFlow,
       false,
       "what Prefect's late-runs service proposes Late states with",
       {"EnsureOnlyScheduledFlowsMarkedLate", "EnforceDeploymentConcurrencyOnLate",
        "InstrumentFlowRunStateTransitions"}},
      {"GlobalFlowPolicy",
       "global-flow",
       RunKind::kFlow,
       true,
       "bookkeeping transforms after every flow policy",
       {"EnsureFlowRunStateTimestampIsUnique", "SetRunStateType", "SetRunStateName",
        "SetRunStateTimestamp", "SetStartTime", "SetEndTime", "IncrementRunTime",
        "SetExpectedStartTime", "SetNextScheduledStartTime", "UpdateStateDetails",
        "UpdateSubflowParentTask", "UpdateSubflowStateDetails", "IncrementFlowRunCount",
        "RemoveResumingIndicator"}},
      {"GlobalTaskPolicy",
       "global-task",
       RunKind::kTask,
       true,
       "bookkeeping transforms after every task policy",
       {"SetRunStateType", "SetRunStateName", "SetRunStateTimestamp", "SetStartTime", "SetEndTime",
        "IncrementRunTime", "SetExpectedStartTime", "SetNextScheduledStartTime",
        "UpdateStateDetails", "IncrementTaskRunCount"}},
  };
  return kPolicies;
}

const BuiltinPolicy* find_builtin_policy(std::string_view name_or_alias) {
  for (const BuiltinPolicy& p : builtin_policies())
    if (p.name == name_or_alias || p.alias == name_or_alias) return &p;
  return nullptr;
}

const BuiltinPolicy& core_policy(RunKind kind) {
  return *find_builtin_policy(kind == RunKind::kFlow ? "CoreFlowPolicy" : "CoreTaskPolicy");
}
const BuiltinPolicy& minimal_policy(RunKind kind) {
  return *find_builtin_policy(kind == RunKind::kFlow ? "MinimalFlowPolicy" : "MinimalTaskPolicy");
}
const BuiltinPolicy& global_policy(RunKind kind) {
  return *find_builtin_policy(kind == RunKind::kFlow ? "GlobalFlowPolicy" : "GlobalTaskPolicy");
}
const BuiltinPolicy& background_task_policy() {
  return *find_builtin_policy("BackgroundTaskPolicy");
}

}  // namespace runctl
