// The global transforms (lib/rules/global.cpp): each transform and each of its branches, at
// engine level, with a fake store. The cases of Prefect's
// tests/server/orchestration/test_global_policy.py are named after the transform they pin.
#include <doctest/doctest.h>

#include <set>
#include <utility>

#include "engine_fixture.hpp"
#include "policy/policy.hpp"
#include "rules/registry.hpp"
#include "util/error.hpp"

namespace runctl::testing {
namespace {

constexpr Timestamp kSecond = kMicrosPerSecond;

const char* const kFlowOnly[] = {"EnsureFlowRunStateTimestampIsUnique", "UpdateSubflowParentTask",
                                 "UpdateSubflowStateDetails", "IncrementFlowRunCount",
                                 "RemoveResumingIndicator"};
const char* const kGeneric[] = {
    "SetRunStateType",   "SetRunStateName",  "SetRunStateTimestamp", "SetStartTime",
    "SetEndTime",        "IncrementRunTime", "SetExpectedStartTime", "SetNextScheduledStartTime",
    "UpdateStateDetails"};

std::vector<StateType> final_types() {
  return {StateType::kCompleted, StateType::kFailed, StateType::kCancelled, StateType::kCrashed};
}

const Transform& transform(const std::string& name) {
  const BuiltinEntry* e = find_builtin_entry(name);
  REQUIRE_MESSAGE(e != nullptr, name << " is not registered");
  REQUIRE_MESSAGE(e->entry.transform != nullptr, name << " is not a transform");
  return *e->entry.transform;
}

PolicyEntry transform_entry(const std::string& name) {
  return find_builtin_entry(name)->entry;
}

// The store, faked for what the global transforms ask of it (the rest answers as DetachedServices):
// which flow-state timestamps are taken (validation adds the written state's, as the real store
// does) and the nested forced orchestrations of parent task runs, recorded instead of run.
class GlobalFakeServices final : public DetachedServices {
 public:
  std::set<std::pair<std::string, Timestamp>> taken;
  std::vector<std::pair<std::string, Timestamp>> timestamp_queries;
  struct Forced {
    std::string task_run_id;
    State state;
  };
  std::vector<Forced> forced;
  bool fail_force = false;
  std::vector<State> written;

  void write_state(const Run& run, State& state) override {
    if (run.kind == RunKind::kFlow) taken.insert({run.id, state.timestamp});
    written.push_back(state.deep_copy());
  }
  bool flow_state_timestamp_taken(const std::string& flow_run_id, Timestamp t) override {
    timestamp_queries.push_back({flow_run_id, t});
    return taken.count({flow_run_id, t}) > 0;
  }
  void force_task_run_state(const std::string& task_run_id, const State& state) override {
    if (fail_force)
      throw Error(ErrorKind::kNotFound, "Task run with id " + task_run_id + " not found");
    forced.push_back({task_run_id, state.deep_copy()});
  }
};

// A run whose current state of type `initial` was written 5 s before now, proposed a fresh
// state of type `proposed` stamped now (Prefect's initialize_orchestration fixture).
struct G {
  Run run;
  FixedClock clock{kNow};
  RandomUuidGenerator uuids{7};
  GlobalFakeServices services;
  Context ctx;

  G(MaybeType initial, MaybeType proposed, RunKind kind = RunKind::kFlow,
    StateProposal extra = {}) {
    run.kind = kind;
    run.id = uuids.next();
    ctx.kind = kind;
    ctx.run = &run;
    ctx.clock = &clock;
    ctx.uuids = &uuids;
    ctx.services = &services;
    if (initial) {
      ctx.initial_state = state(*initial, kNow - 5 * kSecond);
      run.state_id = ctx.initial_state->id;
      run.state_type = *initial;
      run.state_name = ctx.initial_state->name;
      run.state_timestamp = ctx.initial_state->timestamp;
    }
    if (proposed) {
      extra.type = *proposed;
      ctx.proposed_state = make_state(extra, uuids.next(), kNow);
    }
  }

  StatePtr state(StateType type, Timestamp at, StateProposal p = {}) {
    p.type = type;
    return make_state(p, uuids.next(), at);
  }

  void before(const std::string& name) { transform(name).before_transition(ctx); }
  void after(const std::string& name) { transform(name).after_transition(ctx); }

  // The way Prefect's tests run one transform: enter, validate, exit.
  ChainOutcome chain(const std::vector<std::string>& names) {
    std::vector<PolicyEntry> ts;
    for (const auto& n : names) ts.push_back(transform_entry(n));
    return orchestrate({}, ts, ctx);
  }
  ChainOutcome chain(const std::string& name) { return chain(std::vector<std::string>{name}); }

  // The run kind's whole global policy, as set-state runs it.
  ChainOutcome global(const std::vector<PolicyEntry>& rules = {}) {
    const Policy p = load_builtin_policy(global_policy(run.kind));
    return orchestrate(rules, p.transforms.value_or(std::vector<PolicyEntry>{}), ctx);
  }
};

StateProposal scheduled_at(Timestamp t) {
  StateProposal p;
  p.type = kScheduled;
  p.details.scheduled_time = t;
  return p;
}

// Every column the global transforms write, to prove a hook left them all alone.
struct RunColumns {
  std::optional<StateType> state_type;
  std::optional<std::string> state_name;
  std::optional<Timestamp> state_timestamp, start_time, end_time, expected, next_scheduled;
  std::int64_t total_run_time_us;
  int run_count;
  Json policy;
  explicit RunColumns(const Run& r)
      : state_type(r.state_type),
        state_name(r.state_name),
        state_timestamp(r.state_timestamp),
        start_time(r.start_time),
        end_time(r.end_time),
        expected(r.expected_start_time),
        next_scheduled(r.next_scheduled_start_time),
        total_run_time_us(r.total_run_time_us),
        run_count(r.run_count),
        policy(r.empirical_policy) {}
  bool operator==(const RunColumns&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Registration

TEST_CASE("global transforms: registered with Prefect's names, as transforms, with their scope") {
  for (const char* name : kGeneric) {
    CAPTURE(name);
    const BuiltinEntry* e = find_builtin_entry(name);
    REQUIRE(e != nullptr);
    CHECK(e->entry.kind() == EntryKind::kTransform);
    CHECK(scope_name(e->scope) == "generic");
    CHECK(e->entry.info().from_states == StateTypeSet::all());
    CHECK(e->entry.info().to_states == StateTypeSet::all());
    CHECK_FALSE(e->entry.info().description.empty());
  }
  for (const char* name : kFlowOnly) {
    CAPTURE(name);
    const BuiltinEntry* e = find_builtin_entry(name);
    REQUIRE(e != nullptr);
    CHECK(e->entry.kind() == EntryKind::kTransform);
    CHECK(scope_name(e->scope) == "flow");
  }
  const BuiltinEntry* task = find_builtin_entry("IncrementTaskRunCount");
  REQUIRE(task != nullptr);
  CHECK(scope_name(task->scope) == "task");
}

TEST_CASE("global transforms: GlobalFlowPolicy and GlobalTaskPolicy load complete, in order") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    const BuiltinPolicy& builtin = global_policy(kind);
    const Policy p = load_builtin_policy(builtin);
    CHECK(p.missing.empty());
    REQUIRE(p.transforms.has_value());
    std::vector<std::string> names, expected;
    for (const auto& e : *p.transforms) names.push_back(e.name());
    for (auto n : builtin.entries) expected.emplace_back(n);
    CHECK(names == expected);
  }
}

// ---------------------------------------------------------------------------------------------
// Null proposals: every hook does nothing (WAIT, ABORT and null REJECT get no bookkeeping).

TEST_CASE("global transforms: a null proposal changes nothing, before or after") {
  std::vector<std::string> all(std::begin(kGeneric), std::end(kGeneric));
  all.insert(all.end(), std::begin(kFlowOnly), std::end(kFlowOnly));
  all.push_back("IncrementTaskRunCount");
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    for (MaybeType initial :
         {MaybeType(), MaybeType(kScheduled), MaybeType(kRunning), MaybeType(kCompleted)}) {
      CAPTURE(kind_name(kind));
      CAPTURE(name_of(initial));
      G g(initial, MaybeType(), kind);
      g.run.parent_task_run_id = "parent-task";
      g.run.flow_run_id = "parent-flow";
      g.run.run_count = 3;
      g.run.empirical_policy = Json{{"resuming", true}};
      g.run.end_time = kNow - 2 * kSecond;
      g.run.next_scheduled_start_time = kNow + kSecond;
      // A validated state (the current one) exists, as after a null REJECT: still no mirroring.
      g.ctx.validated_state = g.ctx.initial_state;
      g.services.taken.insert({g.run.id, kNow});
      const RunColumns before(g.run);
      for (const auto& name : all) {
        CAPTURE(name);
        g.before(name);
        g.after(name);
      }
      CHECK(RunColumns(g.run) == before);
      CHECK(g.services.forced.empty());
      CHECK(g.services.timestamp_queries.empty());
    }
  }
}

TEST_CASE("global policies: a WAIT from a rule leaves the run's columns untouched") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(kScheduled, kRunning, kind, {});
    g.run.next_scheduled_start_time = kNow + 60 * kSecond;
    g.run.parent_task_run_id = "parent-task";
    const RunColumns before(g.run);
    auto waiter = make_rule("Waiter");
    waiter->on_before = [](RuleHook& h) { h.delay_transition(60, "not yet"); };
    g.global({entry(waiter)});
    CHECK(name_of(g.ctx.response_status) == "WAIT");
    CHECK(RunColumns(g.run) == before);
    CHECK(g.services.forced.empty());
  }
}

TEST_CASE("global policies: a REJECT with a state gets the bookkeeping of the replacement") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(kRunning, kFailed, kind);
    g.run.start_time = kNow - 5 * kSecond;
    g.run.run_count = 1;
    const Timestamp retry_at = kNow + 30 * kSecond;
    auto retry = make_rule("Retry");
    retry->on_before = [&](RuleHook& h) {
      StateProposal p = scheduled_at(retry_at);
      p.name = "AwaitingRetry";
      h.reject_transition(make_state(p, "retry-state", kNow), "Retrying");
    };
    g.global({entry(retry)});
    CHECK(name_of(g.ctx.response_status) == "REJECT");
    CHECK(g.run.state_type == kScheduled);
    CHECK(g.run.state_name == "AwaitingRetry");
    CHECK(g.run.next_scheduled_start_time == retry_at);
    CHECK_FALSE(g.run.end_time.has_value());  // not FAILED after all
    CHECK(g.run.total_run_time_us == 5 * kSecond);
    CHECK(g.run.run_count == 1);
  }
}

TEST_CASE("global policies: a rule's before-hook error skips every after hook (no mirroring)") {
  G g(kRunning, kFailed);
  g.run.parent_task_run_id = "parent-task";
  auto raiser = make_rule("Raiser");
  raiser->on_before = [](RuleHook&) { throw HookError("boom"); };
  const auto out = g.global({entry(raiser)});
  CHECK(out.error.has_value());
  CHECK(g.services.forced.empty());
  CHECK(g.ctx.finalization_signature.empty());
}

// ---------------------------------------------------------------------------------------------
// EnsureFlowRunStateTimestampIsUnique

TEST_CASE("EnsureFlowRunStateTimestampIsUnique: a free timestamp is kept") {
  G g(kPending, kRunning);
  g.services.taken.insert({"another-run", kNow});
  g.before("EnsureFlowRunStateTimestampIsUnique");
  CHECK(g.ctx.proposed_state->timestamp == kNow);
  REQUIRE(g.services.timestamp_queries.size() == 1);
  CHECK(g.services.timestamp_queries[0].first == g.run.id);
}

TEST_CASE("EnsureFlowRunStateTimestampIsUnique: bumps 1 µs at a time past every taken one") {
  G g(kPending, kRunning);
  g.services.taken = {{g.run.id, kNow}, {g.run.id, kNow + 1}, {g.run.id, kNow + 3}};
  g.before("EnsureFlowRunStateTimestampIsUnique");
  CHECK(g.ctx.proposed_state->timestamp == kNow + 2);
  CHECK(g.services.timestamp_queries.size() == 3);
}

TEST_CASE(
    "EnsureFlowRunStateTimestampIsUnique: later transforms and the written row see the bump") {
  G g(kPending, kRunning);
  g.services.taken.insert({g.run.id, kNow});
  g.global();
  CHECK(g.run.state_timestamp == kNow + 1);
  CHECK(g.run.start_time == kNow + 1);
  REQUIRE(g.services.written.size() == 1);
  CHECK(g.services.written[0].timestamp == kNow + 1);
  CHECK(g.ctx.validated_state->timestamp == kNow + 1);
}

TEST_CASE("GlobalTaskPolicy: no timestamp bump for task runs") {
  G g(kPending, kRunning, RunKind::kTask);
  g.services.taken.insert({g.run.id, kNow});
  g.global();
  CHECK(g.services.timestamp_queries.empty());
  CHECK(g.run.state_timestamp == kNow);
}

// ---------------------------------------------------------------------------------------------
// SetRunStateType, SetRunStateName, SetRunStateTimestamp

TEST_CASE("SetRunStateType: null -> each type sets run.state_type") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask})
    for (StateType t : all_types()) {
      CAPTURE(kind_name(kind));
      CAPTURE(type_name(t));
      G g(MaybeType(), t, kind);
      g.chain("SetRunStateType");
      CHECK(g.run.state_type == t);
    }
}

TEST_CASE("SetRunStateName: null -> SCHEDULED sets the proposal's name") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(MaybeType(), kScheduled, kind);
    g.chain("SetRunStateName");
    CHECK(g.run.state_name == "Scheduled");
    StateProposal named;
    named.name = "Late";
    G custom(kScheduled, kScheduled, kind, named);
    custom.chain("SetRunStateName");
    CHECK(custom.run.state_name == "Late");
  }
}

TEST_CASE("SetRunStateTimestamp: null -> each type sets run.state_timestamp") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask})
    for (StateType t : all_types()) {
      CAPTURE(kind_name(kind));
      CAPTURE(type_name(t));
      G g(MaybeType(), t, kind);
      g.ctx.proposed_state->timestamp = kNow - 17;
      g.chain("SetRunStateTimestamp");
      CHECK(g.run.state_timestamp == kNow - 17);
    }
}

// ---------------------------------------------------------------------------------------------
// SetStartTime

TEST_CASE("SetStartTime: PENDING -> RUNNING sets start_time to the proposal's timestamp") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(kPending, kRunning, kind);
    g.chain("SetStartTime");
    CHECK(g.run.start_time == kNow);
  }
}

TEST_CASE("SetStartTime: an existing start_time is kept, non-RUNNING proposals set nothing") {
  G rerun(kFailed, kRunning);
  rerun.run.start_time = kNow - 100 * kSecond;
  rerun.before("SetStartTime");
  CHECK(rerun.run.start_time == kNow - 100 * kSecond);
  for (StateType t : all_types()) {
    if (t == kRunning || is_final(t)) continue;
    CAPTURE(type_name(t));
    G g(MaybeType(), t);
    g.before("SetStartTime");
    CHECK_FALSE(g.run.start_time.has_value());
  }
}

// ---------------------------------------------------------------------------------------------
// SetEndTime

TEST_CASE("SetEndTime: RUNNING -> each final type sets end_time") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask})
    for (StateType t : final_types()) {
      CAPTURE(kind_name(kind));
      CAPTURE(type_name(t));
      G g(kRunning, t, kind);
      g.run.start_time = kNow - 42 * kSecond;
      g.chain("SetEndTime");
      CHECK(g.run.end_time == kNow);
      CHECK(g.run.start_time == kNow - 42 * kSecond);  // kept
    }
}

TEST_CASE("SetEndTime: each final type -> RUNNING clears end_time") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask})
    for (StateType t : final_types()) {
      CAPTURE(kind_name(kind));
      CAPTURE(type_name(t));
      G g(t, kRunning, kind);
      g.run.start_time = kNow - 42 * kSecond;
      g.run.end_time = kNow - kSecond;
      g.chain("SetEndTime");
      CHECK_FALSE(g.run.end_time.has_value());
    }
}

TEST_CASE("SetEndTime: COMPLETED -> FAILED keeps the first end_time") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(kCompleted, kFailed, kind);
    g.run.start_time = kNow - 42 * kSecond;
    g.run.end_time = kNow - kSecond;
    g.chain("SetEndTime");
    CHECK(g.run.end_time == kNow - kSecond);
  }
}

TEST_CASE("SetEndTime: a run ending without a start_time gets both (start = end)") {
  for (MaybeType initial : {MaybeType(), MaybeType(kPending), MaybeType(kScheduled)}) {
    CAPTURE(name_of(initial));
    G g(initial, kFailed);
    g.before("SetEndTime");
    CHECK(g.run.start_time == kNow);
    CHECK(g.run.end_time == kNow);
  }
}

TEST_CASE("SetEndTime: final -> final with no end_time sets it") {
  G g(kCompleted, kFailed);
  g.run.start_time = kNow - 42 * kSecond;
  g.before("SetEndTime");
  CHECK(g.run.end_time == kNow);
  CHECK(g.run.start_time == kNow - 42 * kSecond);
}

TEST_CASE("SetEndTime: non-final -> non-final leaves even a stale end_time alone") {
  G g(kPending, kRunning);
  g.run.end_time = kNow - kSecond;
  g.before("SetEndTime");
  CHECK(g.run.end_time == kNow - kSecond);
  G none(MaybeType(), kScheduled);
  none.before("SetEndTime");
  CHECK_FALSE(none.run.end_time.has_value());
  CHECK_FALSE(none.run.start_time.has_value());
}

TEST_CASE("SetEndTime: final -> SCHEDULED clears end_time, start_time kept") {
  G g(kFailed, kScheduled);
  g.run.start_time = kNow - 42 * kSecond;
  g.run.end_time = kNow - kSecond;
  g.before("SetEndTime");
  CHECK_FALSE(g.run.end_time.has_value());
  CHECK(g.run.start_time == kNow - 42 * kSecond);
}

// ---------------------------------------------------------------------------------------------
// IncrementRunTime

TEST_CASE("IncrementRunTime: RUNNING at t-42 s -> COMPLETED at t adds 42 s") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(kRunning, kCompleted, kind);
    g.ctx.initial_state->timestamp = kNow - 42 * kSecond;
    g.run.start_time = kNow - 42 * kSecond;
    g.chain("IncrementRunTime");
    CHECK(g.run.total_run_time_us == 42 * kSecond);
  }
}

TEST_CASE("IncrementRunTime: PENDING -> COMPLETED adds nothing") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(kPending, kCompleted, kind);
    g.ctx.initial_state->timestamp = kNow - 42 * kSecond;
    g.chain("IncrementRunTime");
    CHECK(g.run.total_run_time_us == 0);
  }
}

TEST_CASE("IncrementRunTime: accumulates, RUNNING -> RUNNING counts, no state adds nothing") {
  G g(kRunning, kRunning);
  g.run.total_run_time_us = 10 * kSecond;
  g.before("IncrementRunTime");
  CHECK(g.run.total_run_time_us == 15 * kSecond);
  G first(MaybeType(), kCompleted);
  first.before("IncrementRunTime");
  CHECK(first.run.total_run_time_us == 0);
}

// ---------------------------------------------------------------------------------------------
// SetExpectedStartTime

TEST_CASE("SetExpectedStartTime: null -> PENDING/RUNNING/COMPLETED uses the timestamp") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask})
    for (StateType t : {kPending, kRunning, kCompleted}) {
      CAPTURE(kind_name(kind));
      CAPTURE(type_name(t));
      G g(MaybeType(), t, kind);
      g.chain("SetExpectedStartTime");
      CHECK(g.run.expected_start_time == kNow);
      CHECK_FALSE(g.run.start_time.has_value());
    }
}

TEST_CASE("SetExpectedStartTime: null -> SCHEDULED uses the scheduled_time") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    const Timestamp in_ten_days = kNow + 10 * 86400 * kSecond;
    G g(MaybeType(), kScheduled, kind, scheduled_at(in_ten_days));
    g.chain("SetExpectedStartTime");
    CHECK(g.run.expected_start_time == in_ten_days);
    CHECK_FALSE(g.run.start_time.has_value());
  }
}

TEST_CASE("SetExpectedStartTime: set once only") {
  G g(kScheduled, kScheduled, RunKind::kFlow, scheduled_at(kNow + 60 * kSecond));
  g.run.expected_start_time = kNow - kSecond;
  g.before("SetExpectedStartTime");
  CHECK(g.run.expected_start_time == kNow - kSecond);
}

TEST_CASE("SetExpectedStartTime: a SCHEDULED proposal without scheduled_time leaves it null") {
  // make_state always fills scheduled_time; a hand-built proposal shows Prefect's plain copy.
  G g(MaybeType(), kScheduled);
  g.ctx.proposed_state->details->scheduled_time.reset();
  g.before("SetExpectedStartTime");
  CHECK_FALSE(g.run.expected_start_time.has_value());
}

// ---------------------------------------------------------------------------------------------
// SetNextScheduledStartTime

TEST_CASE("SetNextScheduledStartTime: null -> SCHEDULED sets the scheduled_time") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(MaybeType(), kScheduled, kind, scheduled_at(kNow + 42 * kSecond));
    g.chain("SetNextScheduledStartTime");
    CHECK(g.run.next_scheduled_start_time == kNow + 42 * kSecond);
    CHECK_FALSE(g.run.start_time.has_value());
  }
}

TEST_CASE("SetNextScheduledStartTime: SCHEDULED -> PENDING clears it") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(kScheduled, kPending, kind);
    g.run.next_scheduled_start_time = kNow + 42 * kSecond;
    g.chain("SetNextScheduledStartTime");
    CHECK_FALSE(g.run.next_scheduled_start_time.has_value());
    CHECK_FALSE(g.run.start_time.has_value());
  }
}

TEST_CASE("SetNextScheduledStartTime: SCHEDULED -> SCHEDULED replaces, others keep it") {
  G again(kScheduled, kScheduled, RunKind::kFlow, scheduled_at(kNow + 90 * kSecond));
  again.run.next_scheduled_start_time = kNow + 42 * kSecond;
  again.before("SetNextScheduledStartTime");
  CHECK(again.run.next_scheduled_start_time == kNow + 90 * kSecond);
  // Only leaving SCHEDULED clears it: a PENDING -> RUNNING move does not.
  G other(kPending, kRunning);
  other.run.next_scheduled_start_time = kNow + 42 * kSecond;
  other.before("SetNextScheduledStartTime");
  CHECK(other.run.next_scheduled_start_time == kNow + 42 * kSecond);
}

// ---------------------------------------------------------------------------------------------
// UpdateStateDetails

TEST_CASE("UpdateStateDetails (flow): flow_run_id := run id, task_run_id left as sent") {
  StateProposal p;
  p.details.flow_run_id = "client-flow";
  p.details.task_run_id = "client-task";
  G g(kPending, kRunning, RunKind::kFlow, p);
  g.chain("UpdateStateDetails");
  CHECK(g.ctx.validated_state->details->flow_run_id == g.run.id);
  CHECK(g.ctx.validated_state->details->task_run_id == "client-task");
}

TEST_CASE("UpdateStateDetails (task): flow_run_id := the task's flow run, task_run_id := run id") {
  StateProposal p;
  p.details.flow_run_id = "client-flow";
  p.details.task_run_id = "client-task";
  G g(kPending, kRunning, RunKind::kTask, p);
  g.run.flow_run_id = "owning-flow";
  g.chain("UpdateStateDetails");
  CHECK(g.ctx.validated_state->details->flow_run_id == "owning-flow");
  CHECK(g.ctx.validated_state->details->task_run_id == g.run.id);
  // A task run outside any flow run: the client's flow_run_id is overwritten with null.
  G orphan(kPending, kRunning, RunKind::kTask, p);
  orphan.before("UpdateStateDetails");
  CHECK_FALSE(orphan.ctx.proposed_state->details->flow_run_id.has_value());
  CHECK(orphan.ctx.proposed_state->details->task_run_id == orphan.run.id);
}

// ---------------------------------------------------------------------------------------------
// UpdateSubflowParentTask

TEST_CASE("UpdateSubflowParentTask: the parent task run is forced into a fresh copy") {
  StateProposal p;
  p.message = "it broke";
  p.data = Json{{"value", 1}};
  G g(kRunning, kFailed, RunKind::kFlow, p);
  g.ctx.proposed_state->timestamp = kNow - kSecond;  // so "timestamp now" is visible
  g.run.parent_task_run_id = "parent-task";
  g.chain("UpdateSubflowParentTask");
  REQUIRE(g.services.forced.size() == 1);
  const auto& f = g.services.forced[0];
  CHECK(f.task_run_id == "parent-task");
  CHECK(f.state.type == kFailed);
  CHECK(f.state.name == "Failed");
  CHECK(f.state.message == "it broke");
  REQUIRE(f.state.data);
  CHECK(*f.state.data == Json{{"value", 1}});
  CHECK(f.state.details->child_flow_run_id == g.run.id);
  CHECK(f.state.id != g.ctx.validated_state->id);
  CHECK_FALSE(f.state.id.empty());
  CHECK(f.state.timestamp == kNow);
  // The subflow's own state is not touched by the copy.
  CHECK_FALSE(g.ctx.validated_state->details->child_flow_run_id.has_value());
  CHECK(g.ctx.validated_state->timestamp == kNow - kSecond);
}

TEST_CASE("UpdateSubflowParentTask: mirrors the validated state, not the original proposal") {
  G g(kRunning, kFailed);
  g.run.parent_task_run_id = "parent-task";
  auto rejecter = make_rule("Rejecter");
  rejecter->on_before = [](RuleHook& h) {
    StateProposal p;
    p.type = kScheduled;
    p.name = "AwaitingRetry";
    h.reject_transition(make_state(p, "replacement", kNow), "retrying");
  };
  g.global({entry(rejecter)});
  REQUIRE(g.services.forced.size() == 1);
  CHECK(g.services.forced[0].state.type == kScheduled);
  CHECK(g.services.forced[0].state.name == "AwaitingRetry");
  // UpdateSubflowStateDetails ran before validation, so the copy also carries the parent task id.
  CHECK(g.services.forced[0].state.details->task_run_id == "parent-task");
  CHECK(g.services.forced[0].state.details->flow_run_id == g.run.id);
}

TEST_CASE("UpdateSubflowParentTask: nothing for a flow run without a parent task run") {
  G g(kRunning, kFailed);
  g.chain("UpdateSubflowParentTask");
  CHECK(g.services.forced.empty());
}

TEST_CASE("UpdateSubflowParentTask: nothing when no state was validated") {
  G g(kRunning, kFailed);
  g.run.parent_task_run_id = "parent-task";
  g.after("UpdateSubflowParentTask");  // called directly: validated_state is still null
  CHECK(g.services.forced.empty());
}

TEST_CASE("UpdateSubflowParentTask: acts in the after hook only") {
  G g(kRunning, kFailed);
  g.run.parent_task_run_id = "parent-task";
  g.ctx.validated_state = g.ctx.proposed_state;
  g.before("UpdateSubflowParentTask");
  CHECK(g.services.forced.empty());
  g.after("UpdateSubflowParentTask");
  CHECK(g.services.forced.size() == 1);
}

TEST_CASE("UpdateSubflowParentTask: an error of the nested orchestration propagates") {
  G g(kRunning, kFailed);
  g.run.parent_task_run_id = "parent-task";
  g.services.fail_force = true;
  const auto out = g.chain("UpdateSubflowParentTask");
  REQUIRE(out.error.has_value());
  CHECK(*out.error == "Task run with id parent-task not found");
  CHECK(out.escaped);
}

// ---------------------------------------------------------------------------------------------
// UpdateSubflowStateDetails

TEST_CASE("UpdateSubflowStateDetails: a subflow's state gets task_run_id := parent task") {
  G g(kRunning, kFailed);
  g.run.parent_task_run_id = "parent-task";
  g.chain("UpdateSubflowStateDetails");
  CHECK(g.ctx.validated_state->type == kFailed);
  CHECK(g.ctx.validated_state->details->task_run_id == "parent-task");
}

TEST_CASE("UpdateSubflowStateDetails: a top-level flow run keeps the client's task_run_id") {
  StateProposal p;
  p.details.task_run_id = "client-task";
  G g(kRunning, kFailed, RunKind::kFlow, p);
  g.chain("UpdateSubflowStateDetails");
  CHECK(g.ctx.validated_state->details->task_run_id == "client-task");
}

// ---------------------------------------------------------------------------------------------
// IncrementFlowRunCount, IncrementTaskRunCount

TEST_CASE("IncrementFlowRunCount / IncrementTaskRunCount: PENDING -> RUNNING, 0 -> 1") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(kPending, kRunning, kind);
    g.chain(kind == RunKind::kFlow ? "IncrementFlowRunCount" : "IncrementTaskRunCount");
    CHECK(g.run.run_count == 1);
  }
}

TEST_CASE("IncrementFlowRunCount / IncrementTaskRunCount: PENDING -> RUNNING, 41 -> 42") {
  for (RunKind kind : {RunKind::kFlow, RunKind::kTask}) {
    CAPTURE(kind_name(kind));
    G g(kPending, kRunning, kind);
    g.run.run_count = 41;
    g.chain(kind == RunKind::kFlow ? "IncrementFlowRunCount" : "IncrementTaskRunCount");
    CHECK(g.run.run_count == 42);
  }
}

TEST_CASE("Increment run count: only RUNNING proposals count") {
  for (StateType t : all_types()) {
    if (t == kRunning) continue;
    CAPTURE(type_name(t));
    G flow(kPending, t);
    flow.before("IncrementFlowRunCount");
    CHECK(flow.run.run_count == 0);
    G task(kPending, t, RunKind::kTask);
    task.before("IncrementTaskRunCount");
    CHECK(task.run.run_count == 0);
  }
  G rerun(kRunning, kRunning);  // RUNNING -> RUNNING is another entry into RUNNING
  rerun.before("IncrementFlowRunCount");
  CHECK(rerun.run.run_count == 1);
}

TEST_CASE("IncrementFlowRunCount: PAUSED or PENDING -> RUNNING while resuming keeps 42") {
  for (StateType initial : {kPaused, kPending}) {
    CAPTURE(type_name(initial));
    G g(initial, kRunning);
    g.run.run_count = 42;
    g.run.empirical_policy = Json{{"resuming", true}};
    g.chain("IncrementFlowRunCount");
    CHECK(g.run.run_count == 42);
    CHECK(g.run.empirical_policy == Json{{"resuming", true}});  // RemoveResumingIndicator clears it
  }
}

TEST_CASE("IncrementFlowRunCount: the resuming flag against the api-version") {
  struct Case {
    Json version;
    Json resuming;
    int expected;
  };
  const Case cases[] = {
      {Json(), true, 42},     // absent: modern client
      {"0.8.4", true, 42},    // exactly the threshold
      {"0.9.0", true, 42},    //
      {"0.8.3", true, 43},    // old clients knew no resuming flag: always count
      {Json(), false, 43},    //
      {Json(), Json(), 43},   // null flag is falsy
      {"0.8.4", Json(), 43},  //
  };
  for (const Case& c : cases) {
    CAPTURE(c.version.dump());
    CAPTURE(c.resuming.dump());
    G g(kPaused, kRunning);
    g.run.run_count = 42;
    g.run.empirical_policy = Json{{"resuming", c.resuming}};
    if (!c.version.is_null()) g.ctx.parameters["api-version"] = c.version;
    g.before("IncrementFlowRunCount");
    CHECK(g.run.run_count == c.expected);
  }
  G none(kPending, kRunning);  // no "resuming" key at all
  none.run.empirical_policy = Json::object();
  none.before("IncrementFlowRunCount");
  CHECK(none.run.run_count == 1);
}

TEST_CASE("IncrementFlowRunCount: a malformed api-version raises, but only for RUNNING") {
  G running(kPending, kRunning);
  running.ctx.parameters["api-version"] = "not-a-version";
  CHECK_THROWS_AS(running.before("IncrementFlowRunCount"), HookError);
  G pending(kScheduled, kPending);
  pending.ctx.parameters["api-version"] = "not-a-version";
  CHECK_NOTHROW(pending.before("IncrementFlowRunCount"));
}

TEST_CASE("IncrementTaskRunCount: tasks ignore any resuming flag and api-version") {
  G g(kPaused, kRunning, RunKind::kTask);
  g.run.empirical_policy = Json{{"resuming", true}};
  g.ctx.parameters["api-version"] = "0.8.4";
  g.before("IncrementTaskRunCount");
  CHECK(g.run.run_count == 1);
}

// ---------------------------------------------------------------------------------------------
// RemoveResumingIndicator

TEST_CASE("RemoveResumingIndicator: PAUSED or PENDING -> RUNNING clears resuming") {
  for (StateType initial : {kPaused, kPending}) {
    CAPTURE(type_name(initial));
    G g(initial, kRunning);
    g.run.empirical_policy = Json{{"resuming", true}};
    g.chain("RemoveResumingIndicator");
    CHECK(g.run.empirical_policy["resuming"] == false);
  }
}

TEST_CASE("RemoveResumingIndicator: final proposals clear it too, others keep it") {
  for (StateType t : all_types()) {
    CAPTURE(type_name(t));
    G g(kPaused, t);
    g.run.empirical_policy = Json{{"resuming", true}};
    g.before("RemoveResumingIndicator");
    const bool clears = t == kRunning || is_final(t);
    CHECK(g.run.empirical_policy["resuming"] == !clears);
  }
}

TEST_CASE("RemoveResumingIndicator: old api-versions keep the flag, no flag, no rewrite") {
  G old(kPaused, kRunning);
  old.run.empirical_policy = Json{{"resuming", true}};
  old.ctx.parameters["api-version"] = "0.8.3";
  old.before("RemoveResumingIndicator");
  CHECK(old.run.empirical_policy["resuming"] == true);

  G modern(kPaused, kRunning);
  modern.run.empirical_policy = Json{{"resuming", true}};
  modern.ctx.parameters["api-version"] = "0.8.4";
  modern.before("RemoveResumingIndicator");
  CHECK(modern.run.empirical_policy["resuming"] == false);

  // Not resuming: the policy is not rebuilt, so the deprecated back-fill does not run either.
  G idle(kPending, kRunning);
  idle.run.empirical_policy = Json{{"max_retries", 3}};
  idle.before("RemoveResumingIndicator");
  CHECK(idle.run.empirical_policy == Json{{"max_retries", 3}});
}

TEST_CASE("RemoveResumingIndicator: the policy is rebuilt (deprecated max_retries back-filled)") {
  G g(kPaused, kRunning);
  g.run.empirical_policy = Json{{"max_retries", 3}, {"resuming", true}};
  g.before("RemoveResumingIndicator");
  CHECK(g.run.empirical_policy["resuming"] == false);
  CHECK(g.run.empirical_policy["retries"] == 3);
}

TEST_CASE("RemoveResumingIndicator: the api-version is read first, whatever the proposal") {
  // Prefect compares the version before looking at the proposal type, so a malformed version
  // raises even for a PENDING proposal (unlike IncrementFlowRunCount).
  G g(kScheduled, kPending);
  g.ctx.parameters["api-version"] = "not-a-version";
  CHECK_THROWS_AS(g.before("RemoveResumingIndicator"), HookError);
}

TEST_CASE("GlobalFlowPolicy: resuming into RUNNING does not count, then clears the flag") {
  G g(kPaused, kRunning);
  g.run.run_count = 1;
  g.run.empirical_policy = Json{{"resuming", true}};
  g.global();
  CHECK(g.run.run_count == 1);
  CHECK(g.run.empirical_policy["resuming"] == false);
  // The next RUNNING (a retry) counts again.
  G next(kFailed, kRunning);
  next.run.run_count = 1;
  next.run.empirical_policy = g.run.empirical_policy;
  next.global();
  CHECK(next.run.run_count == 2);
}

// ---------------------------------------------------------------------------------------------
// The whole global policies on an ordinary life cycle

TEST_CASE("GlobalFlowPolicy: SCHEDULED -> PENDING -> RUNNING -> COMPLETED bookkeeping") {
  Run run;
  run.kind = RunKind::kFlow;
  run.id = "flow-1";
  RandomUuidGenerator uuids{3};
  GlobalFakeServices services;
  StatePtr current;
  const Policy global = load_builtin_policy(global_policy(RunKind::kFlow));
  auto step = [&](StateProposal p, Timestamp at) {
    FixedClock clock{at};
    Context c;
    c.kind = run.kind;
    c.run = &run;
    c.clock = &clock;
    c.uuids = &uuids;
    c.services = &services;
    c.initial_state = current;
    c.proposed_state = make_state(p, uuids.next(), at);
    const auto out = orchestrate({}, *global.transforms, c);
    REQUIRE_FALSE(out.error.has_value());
    current = c.validated_state;
  };
  const Timestamp t0 = kNow, sched = kNow + 60 * kSecond;
  step(scheduled_at(sched), t0);
  CHECK(run.expected_start_time == sched);
  CHECK(run.next_scheduled_start_time == sched);
  CHECK(run.state_type == kScheduled);
  CHECK(run.state_name == "Scheduled");
  CHECK(run.state_timestamp == t0);
  CHECK(current->details->flow_run_id == "flow-1");

  step(proposal(kPending), t0 + 61 * kSecond);
  CHECK_FALSE(run.next_scheduled_start_time.has_value());
  CHECK(run.expected_start_time == sched);
  CHECK(run.run_count == 0);

  step(proposal(kRunning), t0 + 62 * kSecond);
  CHECK(run.start_time == t0 + 62 * kSecond);
  CHECK(run.run_count == 1);

  step(proposal(kCompleted), t0 + 72 * kSecond);
  CHECK(run.end_time == t0 + 72 * kSecond);
  CHECK(run.start_time == t0 + 62 * kSecond);
  CHECK(run.total_run_time_us == 10 * kSecond);
  CHECK(run.run_count == 1);
  CHECK(run.state_type == kCompleted);
  CHECK(run.state_name == "Completed");
  CHECK(run.state_timestamp == t0 + 72 * kSecond);
}

}  // namespace
}  // namespace runctl::testing
