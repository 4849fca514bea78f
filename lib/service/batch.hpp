// Many transitions over one store connection (`runctl apply`). Policies are resolved once and
// their rule lists compiled once per (policy, intended transition); transitions are grouped N to
// a commit. A group runs without savepoints; when one of its transitions fails, the group is
// rolled back and run again with a SAVEPOINT each, so that the failing one rolls back alone.
#pragma once
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "service/replayable_draws.hpp"
#include "service/transition.hpp"
#include "util/error.hpp"

namespace runctl {

struct BatchOptions {
  // Every request's policy, chosen as set-state chooses it (choose_policy): a deferred task
  // proposal runs BackgroundTaskPolicy, a forced one the minimal policy, else this one, else the
  // run kind's core policy.
  std::optional<std::string> policy_ref;
  // Transitions per commit. 1: each transition is its own BEGIN IMMEDIATE ... COMMIT, exactly as
  // set-state runs it. N > 1: N transitions share a transaction, and a failing one still rolls
  // back alone (its group is replayed with savepoints).
  int commit_every = 1;
  // Every group is rolled back where it would be committed: each line is decided against the
  // database as its group left it (with commit_every 1, as the database is), and nothing is
  // written. Results say dry_run.
  bool dry_run = false;
};

// What became of one submitted line: a transition result, or an error with nothing written.
struct BatchOutcome {
  std::size_t line = 0;
  std::optional<std::string> run_id;       // when known
  std::optional<TransitionResult> result;  // the transition ran (its error: a hook raised)
  std::optional<Error> error;              // it did not: bad input, unknown run, database error
};

class TransitionBatch {
 public:
  // Resolves options.policy_ref now, so a bad policy fails before anything is read or written:
  // throws Error(kNotFound / kBadPolicy) as set-state would.
  TransitionBatch(Database& db, const Environment& env, BatchOptions options);
  // An open group is rolled back: none of its outcomes was settled, so none was reported.
  ~TransitionBatch();
  TransitionBatch(const TransitionBatch&) = delete;
  TransitionBatch& operator=(const TransitionBatch&) = delete;

  // Runs one request in the open group (opening one if needed) and commits the group when it is
  // full. Never throws for the request's own failures: they become the line's outcome.
  void apply(std::size_t line, TransitionRequest request);
  // Records a line that never reached the database (malformed input), in submission order.
  void reject(std::size_t line, std::optional<std::string> run_id, Error error);
  // Commits the open group, if any. A failed commit turns the group's transitions into errors.
  void commit();

  // Outcomes whose fate is sealed (committed, or failed), in submission order: what the caller
  // may now report. A transition still in an open group is not among them.
  std::vector<BatchOutcome> take_settled();

 private:
  enum Choice { kCore, kMinimal, kBackground, kGiven, kChoices };
  const PreparedPolicy& policy_for(RunKind kind, bool force, bool deferred);
  // What running one request did: done (its outcome is set), or it failed in a group without
  // savepoints (replay the group), or it took the whole transaction down with it.
  enum class Ran { kDone, kReplay, kGroupLost };
  Ran run(const TransitionRequest& request, BatchOutcome& outcome);  // with its retries
  Ran run_once(const TransitionRequest& request, BatchOutcome& outcome, bool alone, bool fast);
  bool replay();  // false: the group was lost on the way
  void begin_group();
  void fail_group(const Error& cause);

  Database& db_;
  int commit_every_;
  bool dry_run_;
  ReplayableRandom random_;
  ReplayableUuids uuids_;
  Environment group_env_;        // env_ with the replayable sources
  std::optional<Policy> given_;  // the resolved --policy
  std::array<std::array<std::optional<PreparedPolicy>, kChoices>, 2> policies_;

  std::optional<WriteTransaction> group_;
  int group_size_ = 0;
  bool replayed_ = false;  // the open group was replayed: its transitions run in savepoints
  // The open group's requests while it runs without savepoints, with their outcome's index.
  struct GroupRequest {
    std::size_t pending_index;
    TransitionRequest request;
  };
  std::vector<GroupRequest> group_requests_;
  // Outcomes of the open group and any rejected lines after them, in order; `in_group` marks the
  // ones a failed commit takes down.
  struct Pending {
    BatchOutcome outcome;
    bool in_group;
  };
  std::vector<Pending> pending_;
  std::vector<BatchOutcome> settled_;
};

}  // namespace runctl
