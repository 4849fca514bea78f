#include "service/store_services.hpp"

#include "service/concurrency_services.hpp"
#include "service/transition.hpp"
#include "util/error.hpp"

namespace runctl {

StoreServices::StoreServices(Database& db, const Environment& env) : db_(db), env_(env) {
  mutable_settings() = env.settings;
}

StoreServices::~StoreServices() = default;

ConcurrencyServices* StoreServices::concurrency() {
  if (!concurrency_) concurrency_ = std::make_unique<StoreConcurrencyServices>(db_, env_);
  return concurrency_.get();
}

std::optional<Event> StoreServices::take_event() {
  return concurrency_ ? concurrency_->take_event() : std::nullopt;
}

std::optional<RunSnapshot> StoreServices::read_flow_run(const std::string& flow_run_id) {
  std::optional<Run> run = db_.runs().load_run(RunKind::kFlow, flow_run_id);
  if (!run) return std::nullopt;
  StatePtr state = db_.runs().load_current_state(*run);
  return RunSnapshot{std::move(*run), std::move(state)};
}

StatePtr StoreServices::find_cached_state(const std::string& key, Timestamp now) {
  return db_.runs().find_cached_state(key, now);
}

void StoreServices::insert_cache_entry(const std::string& key, std::optional<Timestamp> expiration,
                                       const std::string& task_run_state_id, Timestamp now) {
  db_.runs().insert_cache_entry(env_.uuids.next(), key, expiration, task_run_state_id, now);
}

bool StoreServices::flow_state_timestamp_taken(const std::string& flow_run_id, Timestamp t) {
  return db_.runs().flow_state_timestamp_taken(flow_run_id, t);
}

void StoreServices::force_task_run_state(const std::string& task_run_id, const State& state) {
  // Locked: the nested transition writes this run too (the order is fixed: the run being
  // orchestrated first, then the one it forces).
  std::optional<Run> run = db_.runs().load_run(RunKind::kTask, task_run_id, RowLock::kForUpdate);
  if (!run) throw Error(ErrorKind::kNotFound, "Task run with id " + task_run_id + " not found");
  TransitionRequest request;
  request.run_id = task_run_id;
  request.proposal.type = state.type;
  request.proposal.name = state.name;
  request.proposal.message = state.message;
  request.proposal.details = *state.details;
  if (state.data) request.proposal.data = *state.data;
  // The state written is the caller's copy itself, as in Prefect: its id and timestamp too.
  request.state_id = state.id;
  request.state_timestamp = state.timestamp;
  request.force = true;
  const Policy policy =
      choose_policy(RunKind::kTask, std::nullopt, true, state.details->deferred.value_or(false));
  TransitionResult nested = apply_transition(db_, *run, policy, request, env_);
  if (nested.error) throw HookError(*nested.error);
}

std::vector<std::string> StoreServices::failed_task_runs(const std::string& flow_run_id) {
  return db_.runs().failed_task_runs(flow_run_id);
}

void StoreServices::set_task_run_count(const std::string& task_run_id, int run_count) {
  std::optional<Run> run = db_.runs().load_run(RunKind::kTask, task_run_id, RowLock::kForUpdate);
  if (!run) return;
  run->run_count = run_count;
  db_.runs().update_run(*run);
}

void StoreServices::enqueue_task_run(const Run& task_run, const std::string& queue) {
  db_.runs().enqueue_task_run(env_.uuids.next(), task_run, queue, env_.clock.now());
}

}  // namespace runctl
