#include "service/batch.hpp"

#include <exception>
#include <utility>

namespace runctl {

TransitionBatch::TransitionBatch(Database& db, const Environment& env, BatchOptions options)
    : db_(db),
      commit_every_(options.commit_every < 1 ? 1 : options.commit_every),
      dry_run_(options.dry_run),
      random_(env.random),
      uuids_(env.uuids),
      group_env_{env.clock, uuids_, random_, env.settings} {
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
  replayed_ = false;
  group_requests_.clear();
  random_.log().clear();
  uuids_.log().clear();
}

TransitionBatch::Ran TransitionBatch::run(const TransitionRequest& request, BatchOutcome& outcome) {
  const bool alone = commit_every_ == 1;
  const bool fast = !alone && !replayed_;
  for (int attempt = 1;; ++attempt) {
    try {
      return run_once(request, outcome, alone, fast);
    } catch (const std::exception& e) {
      // The savepoint (or, for groups of one, the transaction) was rolled back on the way out.
      const Error* error = dynamic_cast<const Error*>(&e);
      outcome.error =
          error ? *error : Error(ErrorKind::kIo, std::string("internal error: ") + e.what());
      outcome.result.reset();
      if (fast) return db_.in_transaction() ? Ran::kReplay : Ran::kGroupLost;
      // A lost race (deadlock, serialization failure) is run again, as set_state() does: alone
      // in a transaction of its own, or in a group, in a savepoint of its own.
      const bool retry = error && error->reason() == ErrorReason::kRetryable &&
                         attempt < kTransitionAttempts && (alone || db_.in_transaction());
      if (retry && alone) {
        try {
          group_->rollback();
          group_.emplace(db_);
        } catch (const Error& again) {
          outcome.error = again;
          return Ran::kGroupLost;
        }
      }
      if (retry) continue;
      // Either the group was this transition alone, or the backend ended the whole transaction
      // (full disk, I/O error): what the group held before is gone too.
      if (alone || !db_.in_transaction()) return Ran::kGroupLost;
      return Ran::kDone;
    }
  }
}

TransitionBatch::Ran TransitionBatch::run_once(const TransitionRequest& request,
                                               BatchOutcome& outcome, bool alone, bool fast) {
  std::optional<Database::Savepoint> savepoint;
  if (!alone && !fast) savepoint.emplace(db_);
  std::optional<Run> run = db_.runs().find_run(request.run_id, RowLock::kForUpdate);
  if (!run) {
    // Nothing of this transition was written: the group goes on as it is.
    outcome.error = Error(ErrorKind::kNotFound, "run " + request.run_id + " not found");
    return Ran::kDone;
  }
  if (std::optional<Error> refused = unexpected_state(*run, request)) {
    outcome.error = std::move(refused);  // refused before any rule ran: nothing was written
    return Ran::kDone;
  }
  const bool deferred = request.proposal.details.deferred.value_or(false);
  const PreparedPolicy& policy = policy_for(run->kind, request.force, deferred);
  TransitionResult result = apply_transition(db_, *run, policy, request, group_env_);

  if (result.error) {
    // The chain raised: this transition is undone, and only its log row stays (set_state()).
    if (fast) return Ran::kReplay;
    if (savepoint) {
      savepoint->rollback();
    } else {
      group_->rollback();
      group_.emplace(db_);
    }
    db_.runs().append_log(failed_transition_log_entry(result, group_env_, request.force));
  } else if (savepoint) {
    savepoint->release();
  }
  outcome.error.reset();
  outcome.result = std::move(result);
  return Ran::kDone;
}

void TransitionBatch::apply(std::size_t line, TransitionRequest request) {
  BatchOutcome outcome;
  outcome.line = line;
  outcome.run_id = request.run_id;
  request.dry_run = dry_run_;
  try {
    if (!group_) begin_group();
  } catch (const Error& e) {
    outcome.error = e;
    pending_.push_back({std::move(outcome), false});
    return;
  }
  ++group_size_;
  const TransitionRequest* kept = &request;
  if (commit_every_ > 1 && !replayed_) {
    group_requests_.push_back({pending_.size(), std::move(request)});
    kept = &group_requests_.back().request;
  }
  const Ran ran = run(*kept, outcome);
  const bool in_group = outcome.result.has_value();
  pending_.push_back({std::move(outcome), in_group});
  if (ran == Ran::kGroupLost) {
    pending_.back().in_group = false;
    fail_group(*pending_.back().outcome.error);
    return;
  }
  if (ran == Ran::kReplay && !replay()) return;
  if (group_ && group_size_ >= commit_every_) commit();
}

bool TransitionBatch::replay() {
  // One transition of the group failed, and none had a savepoint: the group is undone and run
  // again, now a savepoint each, so that the failing one rolls back alone. The sources are
  // rewound, so every transition draws what it drew the first time.
  try {
    group_->rollback();
    group_.emplace(db_);
  } catch (const Error& e) {
    fail_group(e);
    return false;
  }
  replayed_ = true;
  random_.log().rewind();
  uuids_.log().rewind();
  for (GroupRequest& g : group_requests_) {
    Pending& p = pending_[g.pending_index];
    BatchOutcome outcome;
    outcome.line = p.outcome.line;
    outcome.run_id = p.outcome.run_id;
    const Ran ran = run(g.request, outcome);
    p.outcome = std::move(outcome);
    p.in_group = ran != Ran::kGroupLost && p.outcome.result.has_value();
    if (ran == Ran::kGroupLost) {
      fail_group(*p.outcome.error);
      return false;
    }
  }
  group_requests_.clear();
  return true;
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
    if (dry_run_)
      group_->rollback();
    else
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
