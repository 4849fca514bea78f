// Deployment and tag concurrency: Prefect's PreserveDeploymentConcurrencyLeaseId,
// ValidateDeploymentConcurrencyAtRunning, SecureFlowConcurrencySlots,
// RemoveDeploymentConcurrencyLeaseForOldClientVersions, EnforceDeploymentConcurrencyOnLate,
// ReleaseFlowConcurrencySlots, SecureTaskConcurrencySlots and ReleaseTaskConcurrencySlots, with
// their shared helper core_policy._release_concurrency_lease.
//
// Every limit, lease and slot change goes through Services::concurrency(), which the store
// answers inside the transition's transaction. Where Prefect has no database session the rules do
// nothing; here that is a null concurrency() (unit tests of other rules).
#include <algorithm>
#include <map>
#include <set>

#include "engine/concurrency.hpp"
#include "engine/intervals.hpp"
#include "rules/families.hpp"
#include "rules/rule_support.hpp"
#include "util/version.hpp"

namespace runctl {
namespace {

// Prefect's MIN_CLIENT_VERSION_FOR_CONCURRENCY_LIMIT_LEASING.
constexpr std::string_view kMinLeasingClient = "3.4.11";
// Prefect's V1_LEASE_TTL: tag leases are meant to outlive any task run.
constexpr double kTagLeaseTtlSeconds = 36500.0 * 24 * 60 * 60;

ConcurrencyServices* concurrency_of(Services* services) {
  return services ? services->concurrency() : nullptr;
}

// Prefect parses client versions with packaging's Version(), which raises InvalidVersion.
Version client_version_of(const std::string& text) {
  auto v = parse_version(text);
  if (!v) throw HookError("Invalid version: '" + text + "'");
  return *v;
}

bool version_below(const std::string& text, std::string_view threshold) {
  return compare_versions(client_version_of(text), *parse_version(threshold)) < 0;
}

// Workers of these versions secure deployment slots themselves (Prefect's
// WORKER_VERSIONS_THAT_MANAGE_DEPLOYMENT_CONCURRENCY): an exact string match, as in Prefect.
bool worker_manages_deployment_concurrency(const std::optional<std::string>& client_version) {
  static const std::set<std::string> kVersions = {"3.0.0rc20", "3.0.0", "3.0.1", "3.0.2", "3.0.3"};
  return client_version && kVersions.count(*client_version) > 0;
}

// The lease TTL of a deployment: its grace period when set, else the server setting.
double grace_period_seconds(const Deployment& d, const Settings& settings) {
  if (d.concurrency_options && d.concurrency_options->grace_period_seconds)
    return static_cast<double>(*d.concurrency_options->grace_period_seconds);
  return settings.initial_deployment_lease_duration;
}

// Prefect's core_policy._release_concurrency_lease: decrements what the lease holds and revokes it.
// A lease that is gone (revoked, or reaped) releases the fallback limits instead, when given. A
// decrement that misses a limit (deleted or inactive) raises: the transition fails and rolls back.
void release_lease(ConcurrencyServices& cs, const std::string& lease_id,
                   const std::vector<std::string>* fallback_limit_ids,
                   std::int64_t fallback_slots = 1) {
  const HookError failed("Failed to release concurrency slots for lease " + lease_id);
  std::optional<Lease> lease = cs.read_lease(lease_id);
  if (!lease) {
    if (fallback_limit_ids && !cs.decrement_active_slots(*fallback_limit_ids, fallback_slots))
      throw failed;
    return;
  }
  // Revoked before the decrement, which reaps the limits' expired leases first: this lease must
  // not be among them, or its slots would be released twice. Both happen in one transaction.
  cs.revoke_lease(lease->id);
  if (!cs.decrement_active_slots(lease->resource_ids, lease->slots)) throw failed;
}

StatePtr scheduled_state(RuleHook& hook, std::string name, Timestamp scheduled_time) {
  StateProposal p;
  p.type = StateType::kScheduled;
  p.name = std::move(name);
  p.details.scheduled_time = scheduled_time;
  return hook.new_state(p);
}

StatePtr cancelled_state(RuleHook& hook, std::string message) {
  StateProposal p;
  p.type = StateType::kCancelled;
  p.message = std::move(message);
  return hook.new_state(p);
}

std::string zero_tag_limit_reason(const std::string& tag) {
  return "The concurrency limit on tag \"" + tag +
         "\" is 0 and will deadlock if the task tries to run again.";
}

// ---------------------------------------------------------------------------------------------
// PreserveDeploymentConcurrencyLeaseId

class PreserveDeploymentConcurrencyLeaseId final : public Transform {
 public:
  PreserveDeploymentConcurrencyLeaseId()
      : Transform({
            .name = "PreserveDeploymentConcurrencyLeaseId",
            .run_kind = RunScope::kFlow,
            .description = "a proposal without deployment_concurrency_lease_id keeps the current "
                           "state's (workers send it as null)",
        }) {}

  void before_transition(Context& c) const override {
    if (!c.initial_state || !c.proposed_state) return;
    const auto& held = c.initial_state->details->deployment_concurrency_lease_id;
    auto& proposed = c.proposed_state->details->deployment_concurrency_lease_id;
    if (held && !proposed) proposed = held;
  }
};

// ---------------------------------------------------------------------------------------------
// ValidateDeploymentConcurrencyAtRunning

class ValidateDeploymentConcurrencyAtRunning final : public Rule {
 public:
  ValidateDeploymentConcurrencyAtRunning()
      : Rule({
            .name = "ValidateDeploymentConcurrencyAtRunning",
            .run_kind = RunScope::kFlow,
            .from_states = {StateType::kPending},
            .to_states = {StateType::kRunning},
            .description =
                "PENDING -> RUNNING keeps the deployment lease: renewed if it still exists, "
                "else a slot is taken again; with none free the run is CANCELLED (clients >= "
                "3.4.11)",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    const auto lease_id = initial->details->deployment_concurrency_lease_id;
    proposed->details->deployment_concurrency_lease_id = lease_id;  // even when null
    if (!lease_id) return;

    // Older clients never renew their lease, so validating it would cancel healthy runs.
    const auto& cv = hook.client_version();
    if (version_below(cv && !cv->empty() ? *cv : "2.0.0", kMinLeasingClient)) return;

    ConcurrencyServices* cs = concurrency_of(hook.services());
    const Run& run = hook.run();
    if (!cs || !run.deployment_id) return;
    const std::optional<Deployment> d = cs->read_deployment(*run.deployment_id);
    if (!d || !d->concurrency_limit_id || !cs->read_v2_limit(*d->concurrency_limit_id)) return;
    const std::string& limit_id = *d->concurrency_limit_id;
    const double grace = grace_period_seconds(*d, hook.services()->settings());

    if (cs->renew_lease(*lease_id, grace)) return;

    // The lease was reaped: take the slot again if nobody else has.
    if (cs->increment_active_slots({limit_id}, 1)) {
      try {
        const Lease lease =
            cs->create_lease({limit_id}, grace, 1, LeaseHolder{"flow_run", run.id}, run.id);
        proposed->details->deployment_concurrency_lease_id = lease.id;
        return;
      } catch (...) {
        cs->decrement_active_slots({limit_id}, 1);
        throw;
      }
    }
    // Infrastructure is already up, so the run cannot wait: it is cancelled.
    hook.reject_transition(cancelled_state(hook,
                                           "Deployment concurrency slot lost during provisioning "
                                           "- no slots available to continue execution"),
                           "Deployment concurrency limit reached after lease expiry.");
  }
};

// ---------------------------------------------------------------------------------------------
// SecureFlowConcurrencySlots

struct FlowAcquisition {
  std::optional<std::string> limit_id;
  std::optional<std::string> lease_id;
};

class SecureFlowConcurrencySlots final : public Rule {
 public:
  SecureFlowConcurrencySlots()
      : Rule(
            {.name = "SecureFlowConcurrencySlots",
             .run_kind = RunScope::kFlow,
             .from_states = StateTypeSet::all()
                                .without(StateType::kPending)
                                .without(StateType::kRunning)
                                .without(StateType::kCancelling),
             .to_states = {StateType::kPending},
             .description =
                 "entering PENDING takes a slot of the deployment's limit with a lease; when full, "
                 "AwaitingConcurrencySlot (ENQUEUE) or CANCELLED (CANCEL_NEW); limit 0 aborts"}) {}

  void before_transition(RuleHook& hook) const override {
    const Run& run = hook.run();
    // The slot and lease this instance takes, for its cleanup (Prefect keeps them on self).
    FlowAcquisition& acquired = hook.emplace_scratch<FlowAcquisition>();
    const State* proposed = hook.state_view();
    ConcurrencyServices* cs = concurrency_of(hook.services());
    if (!cs || !run.deployment_id || !proposed ||
        worker_manages_deployment_concurrency(hook.client_version()))
      return;

    const std::optional<Deployment> d = cs->read_deployment(*run.deployment_id);
    if (!d) {
      hook.abort_transition("Deployment not found.");
      return;
    }
    if (!d->concurrency_limit_id) return;
    const std::optional<V2Limit> limit = cs->read_v2_limit(*d->concurrency_limit_id);
    if (!limit) return;
    if (limit->limit == 0) {
      hook.abort_transition(
          "The deployment concurrency limit is 0. The flow will deadlock if submitted again.");
      return;
    }

    const Settings& settings = hook.services()->settings();
    if (cs->increment_active_slots({limit->id}, 1)) {
      const Lease lease = cs->create_lease({limit->id}, grace_period_seconds(*d, settings), 1,
                                           std::nullopt, run.id);
      proposed->details->deployment_concurrency_lease_id = lease.id;
      acquired.limit_id = limit->id;
      acquired.lease_id = lease.id;
      return;
    }
    // Full, or the limit is inactive (increment matches active limits only).
    const CollisionStrategy strategy = d->concurrency_options
                                           ? d->concurrency_options->collision_strategy
                                           : CollisionStrategy::kEnqueue;
    if (strategy == CollisionStrategy::kEnqueue) {
      const Timestamp retry_at =
          add_seconds(hook.now(), settings.deployment_concurrency_slot_wait_seconds);
      hook.reject_transition(scheduled_state(hook, "AwaitingConcurrencySlot", retry_at),
                             "Deployment concurrency limit reached.");
    } else {
      hook.reject_transition(cancelled_state(hook, "Deployment concurrency limit reached."),
                             "Deployment concurrency limit reached.");
    }
  }

  // A later rule changed the transition: give the slot back. Errors propagate (the transition
  // then rolls back as a whole).
  void cleanup(RuleHook& hook) const override {
    const FlowAcquisition* acquired = hook.scratch<FlowAcquisition>();
    ConcurrencyServices* cs = concurrency_of(hook.services());
    if (!acquired || !acquired->limit_id || !cs) return;
    if (acquired->lease_id) {
      const std::vector<std::string> fallback{*acquired->limit_id};
      release_lease(*cs, *acquired->lease_id, &fallback);
      // The validated state is already written: this changes only what the caller is shown.
      if (const State* validated = hook.state_view())
        validated->details->deployment_concurrency_lease_id.reset();
    } else if (!cs->decrement_active_slots({*acquired->limit_id}, 1)) {
      throw HookError("Failed to release deployment concurrency slots during cleanup");
    }
  }
};

// ---------------------------------------------------------------------------------------------
// RemoveDeploymentConcurrencyLeaseForOldClientVersions

class RemoveDeploymentConcurrencyLeaseForOldClientVersions final : public Rule {
 public:
  RemoveDeploymentConcurrencyLeaseForOldClientVersions()
      : Rule({
            .name = "RemoveDeploymentConcurrencyLeaseForOldClientVersions",
            .run_kind = RunScope::kFlow,
            .from_states = {StateType::kPending},
            .to_states = {StateType::kRunning, StateType::kCancelling},
            .description =
                "clients older than 3.4.11 cannot renew leases: the lease is revoked once the run "
                "leaves PENDING (its slot is released when the run ends)",
        }) {}

  void after_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    if (!initial) return;
    const auto& cv = hook.client_version();
    if (cv && !cv->empty() && !version_below(*cv, kMinLeasingClient)) return;
    ConcurrencyServices* cs = concurrency_of(hook.services());
    if (const auto& lease_id = initial->details->deployment_concurrency_lease_id; lease_id && cs)
      cs->revoke_lease(*lease_id);
  }
};

// ---------------------------------------------------------------------------------------------
// EnforceDeploymentConcurrencyOnLate

class EnforceDeploymentConcurrencyOnLate final : public Rule {
 public:
  EnforceDeploymentConcurrencyOnLate()
      : Rule({
            .name = "EnforceDeploymentConcurrencyOnLate",
            .run_kind = RunScope::kFlow,
            .from_states = {StateType::kScheduled},
            .to_states = {StateType::kScheduled},
            .description =
                "marking a run Late cancels it instead when its deployment's limit is full and "
                "uses CANCEL_NEW",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const State* initial = hook.initial_view();
    const State* proposed = hook.state_view();
    if (!initial || !proposed) return;
    if (proposed->type != StateType::kScheduled || proposed->name != "Late") return;
    const Run& run = hook.run();
    ConcurrencyServices* cs = concurrency_of(hook.services());
    if (!cs || !run.deployment_id) return;
    const std::optional<Deployment> d = cs->read_deployment(*run.deployment_id);
    if (!d || !d->concurrency_limit_id || !d->concurrency_options ||
        d->concurrency_options->collision_strategy != CollisionStrategy::kCancelNew)
      return;
    const std::optional<V2Limit> limit = cs->read_v2_limit(*d->concurrency_limit_id);
    // The stored count, without decay, as Prefect compares it.
    if (!limit || limit->active_slots < limit->limit) return;
    hook.reject_transition(
        cancelled_state(hook, "Deployment concurrency limit reached."),
        "Deployment concurrency limit is full and uses the CANCEL_NEW strategy.");
  }
};

// ---------------------------------------------------------------------------------------------
// ReleaseFlowConcurrencySlots

bool holds_deployment_slot(MaybeType t) {
  return t == StateType::kRunning || t == StateType::kCancelling || t == StateType::kPending;
}

class ReleaseFlowConcurrencySlots final : public Transform {
 public:
  ReleaseFlowConcurrencySlots()
      : Transform({
            .name = "ReleaseFlowConcurrencySlots",
            .run_kind = RunScope::kFlow,
            .description =
                "leaving PENDING/RUNNING/CANCELLING for another type releases the deployment "
                "slot (through the current state's lease when it has one)",
        }) {}

  void after_transition(Context& c) const override {
    if (!c.proposed_state) return;
    // The final proposal counts, not the intended one: an in-process retry (FAILED rejected into
    // AwaitingRetry) releases the slot too.
    if (!holds_deployment_slot(c.initial_type()) || holds_deployment_slot(c.proposed_type()))
      return;
    ConcurrencyServices* cs = concurrency_of(c.services);
    if (!cs || !c.run->deployment_id) return;

    const std::optional<Deployment> d = cs->read_deployment(*c.run->deployment_id);
    if (const auto& lease_id = c.initial_state->details->deployment_concurrency_lease_id) {
      std::vector<std::string> fallback;
      if (d && d->concurrency_limit_id) fallback.push_back(*d->concurrency_limit_id);
      release_lease(*cs, *lease_id, fallback.empty() ? nullptr : &fallback);
      return;
    }
    if (!d || !d->concurrency_limit_id) return;
    if (!cs->decrement_active_slots({*d->concurrency_limit_id}, 1))
      throw HookError("Failed to release deployment concurrency slots");
  }
};

// ---------------------------------------------------------------------------------------------
// SecureTaskConcurrencySlots

struct TaskAcquisition {
  std::vector<std::string> applied_v1;  // tags whose V1 slot this run took
  std::vector<std::string> leases;      // V2 leases taken
};

std::string without_tag_prefix(const std::string& name) {
  return name.rfind("tag:", 0) == 0 ? name.substr(4) : name;
}

void remove_holder(std::vector<std::string>& slots, const std::string& run_id) {
  slots.erase(std::remove(slots.begin(), slots.end(), run_id), slots.end());
}

void add_holder(std::vector<std::string>& slots, const std::string& run_id) {
  if (std::find(slots.begin(), slots.end(), run_id) == slots.end()) slots.push_back(run_id);
}

std::vector<std::string> tag_limit_names(const Run& run) {
  std::vector<std::string> names;
  for (const auto& tag : run.tags) names.push_back("tag:" + tag);
  return names;
}

class SecureTaskConcurrencySlots final : public Rule {
 public:
  SecureTaskConcurrencySlots()
      : Rule({
            .name = "SecureTaskConcurrencySlots",
            .run_kind = RunScope::kTask,
            .from_states = StateTypeSet::all(),
            .to_states = {StateType::kRunning},
            .description =
                "entering RUNNING takes a slot of every tag limit of the run (V2 \"tag:<tag>\" "
                "limits with a lease, then V1 limits they do not shadow); full: WAIT; limit 0: "
                "ABORT",
        }) {}

  void before_transition(RuleHook& hook) const override {
    const Run& run = hook.run();
    // The slots this instance takes, for its cleanup (Prefect keeps them on self).
    TaskAcquisition& acquired = hook.emplace_scratch<TaskAcquisition>();
    ConcurrencyServices* cs = concurrency_of(hook.services());
    if (!cs) return;
    const Settings& settings = hook.services()->settings();

    std::vector<V1Limit> v1 = cs->v1_limits_for_tags(run.tags);  // by tag
    const std::vector<V2Limit> v2 = cs->v2_limits_by_names(tag_limit_names(run));

    std::set<std::string> v2_tags;  // tags an active V2 limit governs: V1 ignores them
    if (!v2.empty()) {
      for (const V2Limit& l : v2)
        if (l.active) v2_tags.insert(without_tag_prefix(l.name));
      for (const V2Limit& l : v2) {
        // Prefect releases the leases acquired so far (none at this point) and, not returning,
        // goes on: a later WAIT or slot acquisition may still follow the ABORT.
        if (l.active && l.limit == 0) {
          for (const auto& lease_id : acquired.leases) release_lease(*cs, lease_id, nullptr);
          hook.abort_transition(zero_tag_limit_reason(without_tag_prefix(l.name)));
        }
      }
      std::vector<const V2Limit*> candidates;
      for (const V2Limit& l : v2)
        if (l.active && l.limit > 0) candidates.push_back(&l);
      if (!candidates.empty()) {
        std::vector<std::string> ids;
        for (const V2Limit* l : candidates) ids.push_back(l->id);
        if (!cs->increment_active_slots(ids, 1)) {
          hook.delay_transition(v2_wait_seconds(candidates, settings, hook),
                                "Concurrency limit reached for tags: " + tags_of(candidates));
          return;  // V1 limits are not evaluated
        }
        const Lease lease =
            cs->create_lease(ids, kTagLeaseTtlSeconds, 1, LeaseHolder{"task_run", run.id}, run.id);
        acquired.leases.push_back(lease.id);
      }
    }

    const bool any_unshadowed = std::any_of(
        v1.begin(), v1.end(), [&](const V1Limit& l) { return v2_tags.count(l.tag) == 0; });
    if (!any_unshadowed) return;
    // Prefect then walks every V1 limit, shadowed ones included, and never stops early: the last
    // ABORT or WAIT decides the response, and later tags may still take a slot.
    std::map<std::string, V1Limit*> by_tag;
    for (V1Limit& l : v1) by_tag[l.tag] = &l;
    auto drop_applied = [&] {
      for (const auto& tag : acquired.applied_v1) {
        V1Limit* stale = by_tag[tag];
        remove_holder(stale->active_slots, run.id);
        cs->set_v1_active_slots(tag, stale->active_slots);
      }
    };
    for (V1Limit& cl : v1) {
      if (cl.limit == 0) {
        drop_applied();
        hook.abort_transition(zero_tag_limit_reason(cl.tag));
      } else if (static_cast<std::int64_t>(cl.active_slots.size()) >= cl.limit) {
        drop_applied();
        hook.delay_transition(static_cast<std::int64_t>(settings.tag_concurrency_slot_wait_seconds),
                              "Concurrency limit for the " + cl.tag + " tag has been reached");
      } else {
        acquired.applied_v1.push_back(cl.tag);
        add_holder(cl.active_slots, run.id);
        cs->set_v1_active_slots(cl.tag, cl.active_slots);
      }
    }
  }

  // A later rule changed the transition: give back what was taken. Errors propagate.
  void cleanup(RuleHook& hook) const override {
    const Run& run = hook.run();
    const TaskAcquisition* acquired = hook.scratch<TaskAcquisition>();
    ConcurrencyServices* cs = concurrency_of(hook.services());
    if (!acquired || !cs) return;
    for (const auto& lease_id : acquired->leases) release_lease(*cs, lease_id, nullptr);
    for (const auto& tag : acquired->applied_v1) {
      std::optional<V1Limit> cl = cs->v1_limit_by_tag(tag);
      if (!cl) continue;
      remove_holder(cl->active_slots, run.id);
      cs->set_v1_active_slots(tag, cl->active_slots);
    }
  }

 private:
  // A jittered wait around the blocking limit's average slot occupancy, capped by the setting.
  static std::int64_t v2_wait_seconds(const std::vector<const V2Limit*>& candidates,
                                      const Settings& settings, RuleHook& hook) {
    const double max_wait = settings.tag_concurrency_slot_wait_seconds;
    // The fullest limit as read (stored counts, no decay); the first wins a tie.
    const V2Limit* blocking = candidates.front();
    for (const V2Limit* l : candidates)
      if (static_cast<double>(l->active_slots) / static_cast<double>(l->limit) >
          static_cast<double>(blocking->active_slots) / static_cast<double>(blocking->limit))
        blocking = l;
    const double occupancy =
        blocking->avg_slot_occupancy_seconds != 0 ? blocking->avg_slot_occupancy_seconds : max_wait;
    const double average = std::min(occupancy, max_wait);
    RandomSource* random = hook.random();
    if (!random) throw HookError("no random source");
    return static_cast<std::int64_t>(
        round_half_even(clamped_poisson_interval(average, 0.3, *random)));
  }

  static std::string tags_of(const std::vector<const V2Limit*>& limits) {
    std::string out;
    for (const V2Limit* l : limits) out += (out.empty() ? "" : ", ") + without_tag_prefix(l->name);
    return out;
  }
};

// ---------------------------------------------------------------------------------------------
// ReleaseTaskConcurrencySlots

class ReleaseTaskConcurrencySlots final : public Transform {
 public:
  ReleaseTaskConcurrencySlots()
      : Transform({
            .name = "ReleaseTaskConcurrencySlots",
            .run_kind = RunScope::kTask,
            .description =
                "a validated state other than RUNNING/CANCELLING releases the run's tag slots: "
                "its V2 leases and its V1 active slots",
        }) {}

  void after_transition(Context& c) const override {
    if (!c.proposed_state) return;
    // Whatever the initial type: a run that never held a slot releases nothing.
    if (!c.validated_state || c.validated_state->type == StateType::kRunning ||
        c.validated_state->type == StateType::kCancelling)
      return;
    ConcurrencyServices* cs = concurrency_of(c.services);
    if (!cs) return;
    const Run& run = *c.run;

    const std::vector<V2Limit> v2 = cs->v2_limits_by_names(tag_limit_names(run));
    std::set<std::string> held;  // a lease on several tag limits is released once
    for (const V2Limit& l : v2)
      for (const auto& [lease_id, holder] : cs->list_holders_for_limit(l.id))
        if (holder.id == run.id) held.insert(lease_id);
    for (const auto& lease_id : held) release_lease(*cs, lease_id, nullptr);

    for (V1Limit& cl : cs->v1_limits_for_tags(run.tags)) {
      const std::size_t before = cl.active_slots.size();
      remove_holder(cl.active_slots, run.id);
      if (cl.active_slots.size() != before) cs->set_v1_active_slots(cl.tag, cl.active_slots);
    }
  }
};

}  // namespace

void add_concurrency_rules(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_transform<PreserveDeploymentConcurrencyLeaseId>());
  out.push_back(builtin_rule<ValidateDeploymentConcurrencyAtRunning>());
  out.push_back(builtin_rule<SecureFlowConcurrencySlots>());
  out.push_back(builtin_rule<RemoveDeploymentConcurrencyLeaseForOldClientVersions>());
  out.push_back(builtin_rule<EnforceDeploymentConcurrencyOnLate>());
  out.push_back(builtin_transform<ReleaseFlowConcurrencySlots>());
  out.push_back(builtin_rule<SecureTaskConcurrencySlots>());
  out.push_back(builtin_transform<ReleaseTaskConcurrencySlots>());
}

}  // namespace runctl
