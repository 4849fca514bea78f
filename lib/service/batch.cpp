#include "service/batch.hpp"

#include <exception>
#include <utility>

namespace runctl {

TransitionBatch::TransitionBatch(Database& db, const Environment& env, BatchOptions options)
    : db_(db), env_(env), commit_every_(options.commit_every < 1 ? 1 : options.commit_every) {
  if (options.policy_ref) given_ = resolve_policy(*options.policy_ref);
}

TransitionBatch::~TransitionBatch() = default;

const PreparedPolicy& TransitionBatch::policy_for(RunKind kind, bool force, bool deferred) {
  // The same order as choose_policy(); kept in step with it by the apply tests, which compare
  // every line with set-state's answer.
  Choice choice = kCore;
  if (kind == RunKind::kTask && deferred)
    choice = kBackground;
  else if (force)
    choice = kMinimal;
  else if (given_)
    choice = kGiven;
  if (choice == kGiven) check_policy_kind(*given_, kind);  // --policy of the other run kind
  std::optional<PreparedPolicy>& slot = policies_[kind == RunKind::kFlow ? 0 : 1][choice];
  if (!slot) {
    switch (choice) {
      case kCore:
        slot.emplace(load_builtin_policy(core_policy(kind)), kind);
        break;
      case kMinimal:
        slot.emplace(load_builtin_policy(minimal_policy(kind)), kind);
        break;
      case kBackground:
        slot.emplace(load_builtin_policy(background_task_policy()), kind);
        break;
      case kGiven:
      case kChoices:
        slot.emplace(*given_, kind);
        break;
    }
  }
  return *slot;
}

void TransitionBatch::begin_group() {
  group_.emplace(db_);
  group_size_ = 0;
}

void TransitionBatch::apply(std::size_t line, const TransitionRequest& request) {
  BatchOutcome outcome;
  outcome.line = line;
  outcome.run_id = request.run_id;
  // Groups of one need no savepoint: the transaction itself is undone, as set-state does.
  const bool savepoints = commit_every_ > 1;
  try {
    if (!group_) begin_group();
    ++group_size_;
    std::optional<Database::Savepoint> savepoint;
    if (savepoints) savepoint.emplace(db_);

    std::optional<Run> run = db_.runs().find_run(request.run_id, RowLock::kForUpdate);
    if (!run) throw Error(ErrorKind::kNotFound, "run " + request.run_id + " not found");
    const bool deferred = request.proposal.details.deferred.value_or(false);
    const PreparedPolicy& policy = policy_for(run->kind, request.force, deferred);
    TransitionResult result = apply_transition(db_, *run, policy, request, env_);

    if (result.error) {
      // The chain raised: this transition is undone, and only its log row stays (set_state()).
      if (savepoints) {
        savepoint->rollback();
      } else {
        group_->rollback();
        begin_group();
        ++group_size_;
      }
      db_.runs().insert_log(failed_transition_log_entry(result, env_, request.force));
    } else if (savepoint) {
      savepoint->release();
    }
    outcome.result = std::move(result);
    pending_.push_back({std::move(outcome), true});
  } catch (const std::exception& e) {
    // The savepoint (or, for groups of one, the transaction) was rolled back on the way out.
    const Error* error = dynamic_cast<const Error*>(&e);
    outcome.error =
        error ? *error : Error(ErrorKind::kIo, std::string("internal error: ") + e.what());
    pending_.push_back({std::move(outcome), false});
    if (group_ && (!savepoints || !db_.in_transaction())) {
      // Either the group was this transition alone, or SQLite ended the whole transaction (full
      // disk, I/O error): what the group held before is gone too.
      const Error cause = *pending_.back().outcome.error;
      fail_group(cause);
      return;
    }
  }
  if (group_ && group_size_ >= commit_every_) commit();
}

void TransitionBatch::reject(std::size_t line, std::optional<std::string> run_id, Error error) {
  BatchOutcome outcome;
  outcome.line = line;
  outcome.run_id = std::move(run_id);
  outcome.error = std::move(error);
  if (pending_.empty())
    settled_.push_back(std::move(outcome));
  else
    pending_.push_back({std::move(outcome), false});
}

void TransitionBatch::commit() {
  if (!group_) {
    for (Pending& p : pending_) settled_.push_back(std::move(p.outcome));
    pending_.clear();
    return;
  }
  try {
    group_->commit();
  } catch (const Error& e) {
    fail_group(e);
    return;
  }
  group_.reset();
  group_size_ = 0;
  for (Pending& p : pending_) settled_.push_back(std::move(p.outcome));
  pending_.clear();
}

void TransitionBatch::fail_group(const Error& cause) {
  group_.reset();  // rolls back whatever is left of the transaction
  group_size_ = 0;
  for (Pending& p : pending_) {
    if (p.in_group) {
      BatchOutcome& o = p.outcome;
      o.result.reset();
      o.error = Error(cause.kind(),
                      std::string("rolled back with its group, not committed: ") + cause.what());
    }
    settled_.push_back(std::move(p.outcome));
  }
  pending_.clear();
}

std::vector<BatchOutcome> TransitionBatch::take_settled() {
  return std::exchange(settled_, {});
}

}  // namespace runctl
