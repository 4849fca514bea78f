#include "engine/chain.hpp"

#include <chrono>
#include <string_view>
#include <utility>

#include "engine/state_json.hpp"
#include "util/error.hpp"

namespace runctl {
namespace {

std::string exception_message(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown error";
  }
}

// What the trace compares before and after a hook to list "every change it made".
struct Snapshot {
  SetStateStatus status;
  ResponseDetails details;
  MaybeType proposed_type;
  std::optional<std::string> proposed_name;
  const State* proposed_ptr;
  Json parameters;

  explicit Snapshot(const Context& c)
      : status(c.response_status),
        details(c.response_details),
        proposed_type(c.proposed_type()),
        proposed_name(c.proposed_state ? std::optional(c.proposed_state->name) : std::nullopt),
        proposed_ptr(c.proposed_state.get()),
        parameters(c.parameters) {}

  Json changes_to(const Context& c) const {
    Json out = Json::object();
    if (c.response_status != status) out["status"] = status_name(c.response_status);
    if (!(c.response_details == details))
      out["details"] = response_details_to_json(c.response_details);
    const auto name = c.proposed_state ? std::optional(c.proposed_state->name) : std::nullopt;
    if (c.proposed_type() != proposed_type || name != proposed_name ||
        c.proposed_state.get() != proposed_ptr) {
      out["proposed_state"] =
          c.proposed_state ? Json{{"type", type_name(c.proposed_state->type)}, {"name", *name}}
                           : Json(nullptr);
    }
    if (c.parameters != parameters) out["parameters"] = c.parameters;
    return out;
  }
};

// Runs one hook, timing it and recording its changes when tracing is on.
template <typename F>
void traced_hook(Context& c, const std::string& entry, HookName hook, F&& run_hook) {
  if (!c.trace) {
    run_hook();
    return;
  }
  Snapshot before(c);
  TraceEvent event = trace_event("hook", entry, "ok");
  event.hook = hook_name(hook);
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&](const char* outcome, std::string why) {
    event.micros = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    event.outcome = outcome;
    event.why = std::move(why);
    event.changes = before.changes_to(c);
    c.trace->push_back(std::move(event));
  };
  try {
    run_hook();
  } catch (const std::exception& e) {
    finish("raised", e.what());
    throw;
  }
  finish("ok", "");
}

// Whether a transform's hook changed the response or put another state in the proposal's place
// (a rename keeps the same state): what makes it the entry that decided. Transforms act on the
// context directly, so the runner compares what they leave with what they found.
struct Verdict {
  SetStateStatus status;
  ResponseDetails::Kind details;
  const State* proposal;

  explicit Verdict(const Context& c)
      : status(c.response_status),
        details(c.response_details.kind),
        proposal(c.proposed_state.get()) {}
  bool operator==(const Verdict&) const = default;
};

// Records a trace event. Its text is built only when tracing is on: with it off, a chain run
// must not pay for strings nobody reads. `why` is a callable returning the reason, for the same
// reason.
void note(Context& c, const char* step, std::string_view entry, const char* outcome) {
  if (c.trace) c.trace->push_back(trace_event(step, std::string(entry), outcome));
}
template <typename Why>
void note(Context& c, const char* step, std::string_view entry, const char* outcome, Why&& why) {
  if (c.trace) c.trace->push_back(trace_event(step, std::string(entry), outcome, why()));
}

std::string membership_why(const RuleInstanceState& s, const RuleInfo& info) {
  if (!info.from_states.contains(s.from_type))
    return std::string("from ") + std::string(type_name(s.from_type)) + " not in FROM " +
           info.from_states.to_string();
  if (!info.to_states.contains(s.to_type))
    return std::string("to ") + std::string(type_name(s.to_type)) + " not in TO " +
           info.to_states.to_string();
  return "";
}

struct Entered {
  const PolicyEntry* entry;
  RuleInstanceState state;  // rules only; its scratch lives as long as this transition
};

// The chain runners' entry stacks, kept for the next transition on this thread: a stack is
// taken by a runner and given back empty, with its capacity, so running a chain allocates none
// once the thread has run one. A nested orchestration (a hook that orchestrates another run)
// takes a second stack while the first is in use.
class EntryStacks {
 public:
  static std::vector<Entered> take() {
    std::vector<std::vector<Entered>>& free = pool();
    if (free.empty()) return {};
    std::vector<Entered> stack = std::move(free.back());
    free.pop_back();
    return stack;
  }
  static void give_back(std::vector<Entered>&& stack) {
    stack.clear();
    pool().push_back(std::move(stack));
  }

 private:
  static std::vector<std::vector<Entered>>& pool() {
    thread_local std::vector<std::vector<Entered>> stacks;
    return stacks;
  }
};

class ChainRunner {
 public:
  explicit ChainRunner(Context& c)
      : c_(c), loaded_state_(c.initial_state), stack_(EntryStacks::take()) {}
  ~ChainRunner() { EntryStacks::give_back(std::move(stack_)); }
  ChainRunner(const ChainRunner&) = delete;
  ChainRunner& operator=(const ChainRunner&) = delete;

  ChainOutcome run(const std::vector<const PolicyEntry*>& rules,
                   const std::vector<const PolicyEntry*>& transforms, MaybeType from,
                   MaybeType to) {
    stack_.reserve(rules.size() + transforms.size());
    // Every entry may sign both lists: no regrowth while the chain runs.
    c_.rule_signature.reserve(c_.rule_signature.size() + rules.size() + transforms.size());
    c_.finalization_signature.reserve(c_.finalization_signature.size() + rules.size() +
                                      transforms.size());
    try {
      for (const PolicyEntry* e : rules) enter(*e, from, to);
      for (const PolicyEntry* e : transforms) enter(*e, from, to);
      validate();
    } catch (...) {
      escaped_ = std::current_exception();
      note(c_, "error", "", "escaped", [&] { return exception_message(escaped_); });
    }
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
      try {
        exit(*it);
      } catch (...) {
        // A later (outer) exit's exception replaces the pending one, as AsyncExitStack does.
        escaped_ = std::current_exception();
      }
    }
    ChainOutcome out;
    out.escaped = escaped_;
    if (escaped_)
      out.error = exception_message(escaped_);
    else if (c_.orchestration_error)
      out.error = c_.orchestration_error;
    return out;
  }

 private:
  // Prefect's BaseOrchestrationRule.invalid(): re-evaluated on exit with the current to-type.
  bool invalid(RuleInstanceState& s, const RuleInfo& info) const {
    if (!info.from_states.contains(s.from_type)) s.invalid_on_entry = true;
    if (!info.to_states.contains(s.to_type)) s.invalid_on_entry = true;
    if (!s.invalid_on_entry) s.invalid_on_entry = transition_changed(s);
    return *s.invalid_on_entry;
  }
  bool fizzled(const RuleInstanceState& s) const {
    return *s.invalid_on_entry ? false : transition_changed(s);
  }
  bool transition_changed(const RuleInstanceState& s) const {
    return s.from_type != c_.initial_type() || s.to_type != c_.proposed_type();
  }

  void enter(const PolicyEntry& e, MaybeType from, MaybeType to) {
    if (e.transform) {
      const Verdict found(c_);
      traced_hook(c_, e.name(), HookName::kBefore, [&] { e.transform->before_transition(c_); });
      if (!(Verdict(c_) == found)) c_.decided_by = e.signature();
      c_.rule_signature.push_back(e.signature());
      ++c_.rule_signature_transforms;
      stack_.push_back({&e, {}});
      return;
    }
    Entered entered{&e, {}};
    RuleInstanceState& s = entered.state;
    s.from_type = from;
    s.to_type = to;
    if (invalid(s, e.info())) {
      note(c_, "enter", e.name(), "invalid", [&] {
        std::string why = membership_why(s, e.info());
        if (why.empty())
          why = std::string("an earlier entry changed the transition to ") +
                std::string(type_name(c_.initial_type())) + " -> " +
                std::string(type_name(c_.proposed_type()));
        return why;
      });
      return;  // an invalid rule stays invalid on exit: nothing to unwind
    }
    note(c_, "enter", e.name(), "valid");
    stack_.push_back(std::move(entered));
    RuleInstanceState& live = stack_.back().state;
    RuleHook hook(c_, live, HookName::kBefore, e.name());  // copies on first use
    try {
      traced_hook(c_, e.name(), HookName::kBefore, [&] { e.rule->before_transition(hook); });
      if (hook.decided()) c_.decided_by = e.signature();
      c_.rule_signature.push_back(e.signature());
    } catch (const std::exception& ex) {
      std::string reason =
          "Aborting orchestration due to error in " + e.name() + ": !" + std::string(ex.what());
      c_.proposed_state = nullptr;
      c_.response_status = SetStateStatus::kAbort;
      c_.response_details = ResponseDetails::abort(reason);
      c_.decided_by = e.signature();
      c_.orchestration_error = std::move(reason);
    }
  }

  void exit(Entered& entered) {
    const PolicyEntry& e = *entered.entry;
    if (e.transform) {
      if (c_.orchestration_error) {
        note(c_, "exit", e.name(), "skipped", [] { return "a rule's before hook raised"; });
        return;
      }
      note(c_, "exit", e.name(), "after");
      const Verdict found(c_);
      traced_hook(c_, e.name(), HookName::kAfter, [&] { e.transform->after_transition(c_); });
      if (!(Verdict(c_) == found)) c_.decided_by = e.signature();
      c_.finalization_signature.push_back(e.signature());
      ++c_.finalization_signature_transforms;
      return;
    }
    RuleInstanceState& s = entered.state;
    if (invalid(s, e.info())) {
      note(c_, "exit", e.name(), "invalid", [&] { return membership_why(s, e.info()); });
    } else if (fizzled(s)) {
      note(c_, "exit", e.name(), "fizzled", [&] {
        return std::string("transition is now ") + std::string(type_name(c_.initial_type())) +
               " -> " + std::string(type_name(c_.proposed_type())) + ", rule expected " +
               std::string(type_name(s.from_type)) + " -> " + std::string(type_name(s.to_type));
      });
      RuleHook hook(c_, s, HookName::kCleanup, e.name());
      traced_hook(c_, e.name(), HookName::kCleanup, [&] { e.rule->cleanup(hook); });
      if (hook.decided()) c_.decided_by = e.signature();
    } else {
      note(c_, "exit", e.name(), "after");
      RuleHook hook(c_, s, HookName::kAfter, e.name());
      traced_hook(c_, e.name(), HookName::kAfter, [&] { e.rule->after_transition(hook); });
      if (hook.decided()) c_.decided_by = e.signature();
      c_.finalization_signature.push_back(e.signature());
    }
  }

  void validate() {
    if (!c_.proposed_state) {
      c_.validated_state =
          loaded_state_ ? std::make_shared<State>(loaded_state_->deep_copy()) : nullptr;
      note(c_, "validate", "", c_.validated_state ? "kept current state" : "nothing to validate");
      return;
    }
    try {
      if (c_.services) c_.services->write_state(*c_.run, *c_.proposed_state);
    } catch (const RetryableError&) {
      c_.proposed_state = nullptr;
      throw;
    } catch (const Error&) {
      // The store's own failures (constraint, I/O) are DB-API errors, which Prefect re-raises
      // rather than turning into an ABORT.
      c_.proposed_state = nullptr;
      throw;
    } catch (const std::exception& e) {
      c_.proposed_state = nullptr;
      c_.response_status = SetStateStatus::kAbort;
      c_.response_details =
          ResponseDetails::abort("Error validating state: " + std::string(e.what()));
      note(c_, "validate", "", "error", [&] { return std::string(e.what()); });
      return;
    }
    c_.validated_state = std::make_shared<State>(c_.proposed_state->deep_copy());
    c_.run->state_id = c_.validated_state->id;
    note(c_, "validate", "", "validated", [&] {
      return std::string(type_name(c_.validated_state->type)) + " '" + c_.validated_state->name +
             "'";
    });
  }

  Context& c_;
  StatePtr loaded_state_;
  std::vector<Entered> stack_;
  std::exception_ptr escaped_;
};

}  // namespace

std::vector<const PolicyEntry*> compile_transition_rules(const std::vector<PolicyEntry>& policy,
                                                         MaybeType from, MaybeType to,
                                                         Trace* trace) {
  std::vector<const PolicyEntry*> out;
  out.reserve(policy.size());
  for (const PolicyEntry& e : policy) {
    const RuleInfo& info = e.info();
    const bool fits = info.from_states.contains(from) && info.to_states.contains(to);
    if (fits) out.push_back(&e);
    if (!trace) continue;
    if (fits) {
      trace->push_back(trace_event("compile", e.name(), "compiled",
                                   e.transform ? "transform: fires on every transition" : ""));
    } else {
      RuleInstanceState s;
      s.from_type = from;
      s.to_type = to;
      trace->push_back(trace_event("compile", e.name(), "skipped", membership_why(s, info)));
    }
  }
  return out;
}

ChainOutcome orchestrate(const std::vector<PolicyEntry>& rules,
                         const std::vector<PolicyEntry>& transforms, Context& context) {
  // Every entry is built with the intended transition, fixed before anything runs.
  const MaybeType from = context.initial_type();
  const MaybeType to = context.proposed_type();
  const auto compiled_rules = compile_transition_rules(rules, from, to, context.trace);
  const auto compiled_transforms = compile_transition_rules(transforms, from, to, context.trace);
  return ChainRunner(context).run(compiled_rules, compiled_transforms, from, to);
}

ChainOutcome orchestrate(const CompiledChain& compiled, const std::vector<PolicyEntry>& rules,
                         const std::vector<PolicyEntry>& transforms, Context& context) {
  const MaybeType from = context.initial_type();
  const MaybeType to = context.proposed_type();
  if (context.trace) {
    // Only for the trace's compile events; the result is the same lists.
    compile_transition_rules(rules, from, to, context.trace);
    compile_transition_rules(transforms, from, to, context.trace);
  }
  return ChainRunner(context).run(compiled.rules, compiled.transforms, from, to);
}

}  // namespace runctl
