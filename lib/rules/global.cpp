// The global transforms (prefect.server.orchestration.global_policy): bookkeeping that
// GlobalFlowPolicy / GlobalTaskPolicy run after every policy. As universal transforms
// (BaseUniversalTransform) they get the real context, so each hook checks for a null
// proposal itself: a WAIT, ABORT or null REJECT must leave the run's columns untouched.
#include "rules/families.hpp"
#include "rules/rule_support.hpp"

namespace runctl {
namespace {

// Flow state rows are unique per (run, timestamp); the server mints timestamps from a clock
// that may not tick between two states, so a colliding timestamp moves on by 1 µs until free.
// It runs first so the later transforms all read the adjusted timestamp.
class EnsureFlowRunStateTimestampIsUnique final : public Transform {
 public:
  EnsureFlowRunStateTimestampIsUnique()
      : Transform({
            .name = "EnsureFlowRunStateTimestampIsUnique",
            .run_kind = RunScope::kFlow,
            .description =
                "proposed.timestamp += 1 µs while a state of this flow run already has it",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state) return;
    Timestamp candidate = c.proposed_state->timestamp;
    while (c.services->flow_state_timestamp_taken(c.run->id, candidate)) ++candidate;
    c.proposed_state->timestamp = candidate;
  }
};

class SetRunStateType final : public Transform {
 public:
  SetRunStateType()
      : Transform({
            .name = "SetRunStateType",
            .run_kind = RunScope::kGeneric,
            .description = "run.state_type := the proposal's type",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state) return;
    c.run->state_type = c.proposed_state->type;
  }
};

class SetRunStateName final : public Transform {
 public:
  SetRunStateName()
      : Transform({
            .name = "SetRunStateName",
            .run_kind = RunScope::kGeneric,
            .description = "run.state_name := the proposal's name",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state) return;
    c.run->state_name = c.proposed_state->name;
  }
};

class SetRunStateTimestamp final : public Transform {
 public:
  SetRunStateTimestamp()
      : Transform({
            .name = "SetRunStateTimestamp",
            .run_kind = RunScope::kGeneric,
            .description = "run.state_timestamp := the proposal's timestamp",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state) return;
    c.run->state_timestamp = c.proposed_state->timestamp;
  }
};

// Only the first RUNNING counts: retries and resumes keep the original start.
class SetStartTime final : public Transform {
 public:
  SetStartTime()
      : Transform(
            {.name = "SetStartTime",
             .run_kind = RunScope::kGeneric,
             .description =
                 "entering RUNNING with no start_time: start_time := the proposal's timestamp"}) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state) return;
    if (c.proposed_state->type == StateType::kRunning && !c.run->start_time)
      c.run->start_time = c.proposed_state->timestamp;
  }
};

// A forced move out of a final state reopens the run; final → final keeps the first
// end_time. A run that ends without ever running (fails before execution) gets its start_time
// here too, so start_time <= end_time always holds.
class SetEndTime final : public Transform {
 public:
  SetEndTime()
      : Transform({
            .name = "SetEndTime",
            .run_kind = RunScope::kGeneric,
            .description =
                "final -> non-final: end_time := null; entering a final state with no "
                "end_time: end_time (and start_time if null) := the proposal's timestamp",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state) return;
    const bool proposed_final = is_final(c.proposed_state->type);
    if (c.initial_state && is_final(c.initial_state->type) && !proposed_final)
      c.run->end_time.reset();
    if (proposed_final && !c.run->end_time) {
      if (!c.run->start_time) c.run->start_time = c.proposed_state->timestamp;
      c.run->end_time = c.proposed_state->timestamp;
    }
  }
};

// Time spent in RUNNING, measured state to state; RUNNING → RUNNING counts too.
class IncrementRunTime final : public Transform {
 public:
  IncrementRunTime()
      : Transform({
            .name = "IncrementRunTime",
            .run_kind = RunScope::kGeneric,
            .description =
                "leaving RUNNING: total_run_time += proposal timestamp - initial timestamp",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state) return;
    if (c.initial_state && c.initial_state->type == StateType::kRunning)
      c.run->total_run_time_us += c.proposed_state->timestamp - c.initial_state->timestamp;
  }
};

// Set once, by the run's first written state.
class SetExpectedStartTime final : public Transform {
 public:
  SetExpectedStartTime()
      : Transform({
            .name = "SetExpectedStartTime",
            .run_kind = RunScope::kGeneric,
            .description =
                "expected_start_time null: := scheduled_time of a SCHEDULED proposal, else "
                "the proposal's timestamp",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state || c.run->expected_start_time) return;
    if (c.proposed_state->type == StateType::kScheduled)
      c.run->expected_start_time = c.proposed_state->details->scheduled_time;
    else
      c.run->expected_start_time = c.proposed_state->timestamp;
  }
};

// What the late-runs service reads: only meaningful while the run is SCHEDULED.
class SetNextScheduledStartTime final : public Transform {
 public:
  SetNextScheduledStartTime()
      : Transform(
            {.name = "SetNextScheduledStartTime",
             .run_kind = RunScope::kGeneric,
             .description =
                 "leaving SCHEDULED: next_scheduled_start_time := null; entering SCHEDULED: := "
                 "the proposal's scheduled_time"}) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state) return;
    if (c.initial_state && c.initial_state->type == StateType::kScheduled)
      c.run->next_scheduled_start_time.reset();
    if (c.proposed_state->type == StateType::kScheduled)
      c.run->next_scheduled_start_time = c.proposed_state->details->scheduled_time;
  }
};

// One class for both kinds, as in Prefect: it branches on the context's kind. Whatever the
// client sent in these fields is overwritten (a task's flow_run_id may become null).
class UpdateStateDetails final : public Transform {
 public:
  UpdateStateDetails()
      : Transform({
            .name = "UpdateStateDetails",
            .run_kind = RunScope::kGeneric,
            .description = "flow: details.flow_run_id := run.id; task: details.flow_run_id := "
                           "run.flow_run_id, details.task_run_id := run.id",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state) return;
    StateDetails& d = *c.proposed_state->details;
    if (c.kind == RunKind::kFlow) {
      d.flow_run_id = c.run->id;
    } else {
      d.flow_run_id = c.run->flow_run_id;
      d.task_run_id = c.run->id;
    }
  }
};

// A subflow's parent task run mirrors the subflow's state. After validation, so the parent
// gets what was really written (a replacement state after a REJECT). The copy is fresh (new id,
// timestamp now) so the two runs never share a state row; the nested forced orchestration runs
// in the same transaction and its errors propagate.
class UpdateSubflowParentTask final : public Transform {
 public:
  UpdateSubflowParentTask()
      : Transform({
            .name = "UpdateSubflowParentTask",
            .run_kind = RunScope::kFlow,
            .description =
                "after validation, a subflow's parent task run is forced into a fresh copy "
                "of the validated state with child_flow_run_id := the subflow's id",
        }) {}
  void after_transition(Context& c) const override {
    if (!c.proposed_state) return;
    if (!c.run->parent_task_run_id || !c.validated_state) return;
    State copy = c.validated_state->deep_copy();
    copy.id = c.uuids->next();
    copy.timestamp = c.now();
    copy.details->child_flow_run_id = c.run->id;
    c.services->force_task_run_state(*c.run->parent_task_run_id, copy);
  }
};

// A subflow's states point at the task run that represents it in the parent flow.
class UpdateSubflowStateDetails final : public Transform {
 public:
  UpdateSubflowStateDetails()
      : Transform({
            .name = "UpdateSubflowStateDetails",
            .run_kind = RunScope::kFlow,
            .description = "subflow: details.task_run_id := run.parent_task_run_id",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state || !c.run->parent_task_run_id) return;
    c.proposed_state->details->task_run_id = c.run->parent_task_run_id;
  }
};

// The run's empirical_policy.resuming flag, with Python truthiness (null/absent = false).
bool resuming(const Run& run) {
  if (!run.empirical_policy.is_object()) return false;
  auto it = run.empirical_policy.find("resuming");
  return it != run.empirical_policy.end() && truthy(*it);
}

// Resuming a paused flow is the same attempt, not a new one; clients older than API
// 0.8.4 did not know about the flag, so they always count.
class IncrementFlowRunCount final : public Transform {
 public:
  IncrementFlowRunCount()
      : Transform({
            .name = "IncrementFlowRunCount",
            .run_kind = RunScope::kFlow,
            .description =
                "entering RUNNING: run_count += 1, unless resuming (api-version >= 0.8.4 or "
                "absent)",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state || c.proposed_state->type != StateType::kRunning) return;
    // Prefect checks the version before the flag, so a bad version raises even if not resuming.
    if (api_version_at_least(c.parameters, "0.8.4") && resuming(*c.run)) return;
    ++c.run->run_count;
  }
};

// After IncrementFlowRunCount, so the flag suppresses exactly one increment and is then cleared.
class RemoveResumingIndicator final : public Transform {
 public:
  RemoveResumingIndicator()
      : Transform({
            .name = "RemoveResumingIndicator",
            .run_kind = RunScope::kFlow,
            .description = "entering RUNNING or a final state (api-version >= 0.8.4 or absent): "
                           "policy.resuming := false",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state) return;
    // Prefect reads the api version before looking at the proposal's type; keep that order.
    if (!api_version_at_least(c.parameters, "0.8.4")) return;
    const StateType t = c.proposed_state->type;
    if ((t == StateType::kRunning || is_final(t)) && resuming(*c.run))
      update_run_policy(*c.run, Json{{"resuming", false}});
  }
};

// Tasks have no pause/resume flag: every RUNNING is an attempt.
class IncrementTaskRunCount final : public Transform {
 public:
  IncrementTaskRunCount()
      : Transform({
            .name = "IncrementTaskRunCount",
            .run_kind = RunScope::kTask,
            .description = "entering RUNNING: run_count += 1",
        }) {}
  void before_transition(Context& c) const override {
    if (!c.proposed_state || c.proposed_state->type != StateType::kRunning) return;
    ++c.run->run_count;
  }
};

}  // namespace

// Registration order = GlobalFlowPolicy's order with IncrementTaskRunCount last; the ones both
// global policies list are generic.
void add_global_transforms(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_transform<EnsureFlowRunStateTimestampIsUnique>());
  out.push_back(builtin_transform<SetRunStateType>());
  out.push_back(builtin_transform<SetRunStateName>());
  out.push_back(builtin_transform<SetRunStateTimestamp>());
  out.push_back(builtin_transform<SetStartTime>());
  out.push_back(builtin_transform<SetEndTime>());
  out.push_back(builtin_transform<IncrementRunTime>());
  out.push_back(builtin_transform<SetExpectedStartTime>());
  out.push_back(builtin_transform<SetNextScheduledStartTime>());
  out.push_back(builtin_transform<UpdateStateDetails>());
  out.push_back(builtin_transform<UpdateSubflowParentTask>());
  out.push_back(builtin_transform<UpdateSubflowStateDetails>());
  out.push_back(builtin_transform<IncrementFlowRunCount>());
  out.push_back(builtin_transform<RemoveResumingIndicator>());
  out.push_back(builtin_transform<IncrementTaskRunCount>());
}

}  // namespace runctl
