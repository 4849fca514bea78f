#include "service/store_services.hpp"

#include "service/concurrency_services.hpp"
#include "service/transition.hpp"
#include "util/error.hpp"

namespace runctl {

StoreServices::StoreServices(Store& store, const Environment& env) : store_(store), env_(env) {
  read_settings_from_environment(mutable_settings());
}

StoreServices::~StoreServices() = default;

ConcurrencyServices* StoreServices::concurrency() {
  if (!concurrency_) concurrency_ = std::make_unique<StoreConcurrencyServices>(store_, env_);
  return concurrency_.get();
}

std::optional<Event> StoreServices::take_event() {
  return concurrency_ ? concurrency_->take_event() : std::nullopt;
}

std::optional<RunSnapshot> StoreServices::read_flow_run(const std::string& flow_run_id) {
  std::optional<Run> run = store_.load_run(RunKind::kFlow, flow_run_id);
  if (!run) return std::nullopt;
  StatePtr state = store_.load_current_state(*run);
  return RunSnapshot{std::move(*run), std::move(state)};
}

StatePtr StoreServices::find_cached_state(const std::string& key, Timestamp now) {
  return store_.find_cached_state(key, now);
}

void StoreServices::insert_cache_entry(const std::string& key, std::optional<Timestamp> expiration,
                                       const std::string& task_run_state_id, Timestamp now) {
  store_.insert_cache_entry(env_.uuids.next(), key, expiration, task_run_state_id, now);
}

bool StoreServices::flow_state_timestamp_taken(const std::string& flow_run_id, Timestamp t) {
  return store_.flow_state_timestamp_taken(flow_run_id, t);
}

void StoreServices::force_task_run_state(const std::string& task_run_id, const State& state) {
  std::optional<Run> run = store_.load_run(RunKind::kTask, task_run_id);
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
  TransitionResult nested = apply_transition(store_, *run, policy, request, env_);
  if (nested.error) throw HookError(*nested.error);
}

std::vector<std::string> StoreServices::failed_task_runs(const std::string& flow_run_id) {
  return store_.failed_task_runs(flow_run_id);
}

void StoreServices::set_task_run_count(const std::string& task_run_id, int run_count) {
  std::optional<Run> run = store_.load_run(RunKind::kTask, task_run_id);
  if (!run) return;
  run->run_count = run_count;
  store_.update_run(*run);
}

void StoreServices::enqueue_task_run(const Run& task_run, const std::string& queue) {
  store_.enqueue_task_run(env_.uuids.next(), task_run, queue, env_.clock.now());
}

}  // namespace runctl
