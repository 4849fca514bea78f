#include "cli/render.hpp"

#include <iomanip>
#include <ostream>
#include <string_view>
#include <unordered_map>

#include "cli/exit_codes.hpp"
#include "cli/transition_json.hpp"
#include "rules/registry.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

Json optional_time(const std::optional<Timestamp>& t) {
  return t ? Json(format_timestamp(*t)) : Json(nullptr);
}

template <typename T>
Json optional_json(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

// Every text output below shows stored text through printable(): a message with a newline must
// not split a line, and an escape sequence in a name must not reach the terminal.
std::string join(const std::vector<std::string>& items) {
  if (items.empty()) return "-";
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + printable(s);
  return out;
}

std::string or_dash(const std::optional<std::string>& s) {
  return s ? printable(*s) : "-";
}

std::string quote_text(const std::string& s) {
  return " \"" + printable(s) + "\"";
}

std::string counted(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "3 rules + 14 transforms": a signature's length at a glance, where the names run to hundreds
// of characters (--verbose and --json list them).
std::string signature_summary(std::size_t size, int transforms) {
  const int rules = static_cast<int>(size) - transforms;
  if (size == 0) return "-";
  if (transforms == 0) return counted(rules, "rule", "rules");
  if (rules == 0) return counted(transforms, "transform", "transforms");
  return counted(rules, "rule", "rules") + " + " + counted(transforms, "transform", "transforms");
}

// A logged signature's transforms, told by the built-in registry (a policy file's own
// transforms count as rules here; `log --json` has every name).
int builtin_transforms(const Signature& names) {
  int n = 0;
  for (const std::string& name : names) {
    const BuiltinEntry* builtin = find_builtin_entry(name);
    if (builtin && builtin->entry.kind() == EntryKind::kTransform) ++n;
  }
  return n;
}

}  // namespace

int exit_code_for(const TransitionResult& r) {
  if (r.error) return exit_code::kHookError;
  switch (r.status) {
    case SetStateStatus::kAccept:
      return exit_code::kAccept;
    case SetStateStatus::kReject:
      return exit_code::kReject;
    case SetStateStatus::kWait:
      return exit_code::kWait;
    case SetStateStatus::kAbort:
      return exit_code::kAbort;
  }
  return exit_code::kAbort;
}

std::string describe(const StatePtr& s) {
  if (!s) return "NONE";
  return std::string(type_name(s->type)) + " '" + printable(s->name) + "'";
}

Json transition_to_json(const TransitionResult& r, bool with_trace) {
  SignatureTexts signatures;
  std::string text = "{";
  append_transition_members(text, r, signatures);
  text.push_back('}');
  Json out = Json::parse(text);
  if (with_trace) out["trace"] = trace_to_json(r.trace);
  return out;
}

void print_transition_text(std::ostream& out, const TransitionResult& r, bool verbose) {
  out << "status:       " << status_name(r.status);
  if (r.details.delay_seconds) out << " (retry in " << *r.details.delay_seconds << " s)";
  if (r.dry_run) out << "  [dry run: nothing written]";
  out << '\n';
  out << "reason:       " << or_dash(r.details.reason) << '\n';
  if (r.decided_by) out << "decided by:   " << printable(*r.decided_by) << '\n';
  out << "run:          " << r.run_id << " (" << kind_name(r.run_kind) << ", policy "
      << printable(r.policy) << ")\n";
  out << "transition:   " << describe(r.initial_state) << " -> "
      << r.proposed_state.value("type", "?") << " '"
      << printable(r.proposed_state.value("name", "?")) << "'\n";
  out << "state:        " << describe(r.validated_state);
  if (r.validated_state) {
    if (r.validated_state->message) out << quote_text(*r.validated_state->message);
    out << "  id " << r.validated_state->id;
  }
  out << '\n';
  if (verbose) {
    out << "rules:        " << join(r.rule_signature) << '\n';
    out << "finalized:    " << join(r.finalization_signature) << '\n';
  } else {
    out << "rules:        "
        << signature_summary(r.rule_signature.size(), r.rule_signature_transforms) << '\n';
    out << "finalized:    "
        << signature_summary(r.finalization_signature.size(), r.finalization_signature_transforms)
        << '\n';
  }
  if (!r.parameters.empty())
    out << "parameters:   "
        << printable(r.parameters.dump(-1, ' ', false, Json::error_handler_t::replace)) << '\n';
  if (!r.side_effects.empty()) out << "side effects: " << join(r.side_effects) << '\n';
  if (r.error) out << "error:        " << printable(*r.error) << " (rolled back)\n";
}

Json trace_to_json(const Trace& trace) {
  Json out = Json::array();
  for (const TraceEvent& e : trace) {
    Json j{{"step", e.step}, {"entry", e.entry}, {"outcome", e.outcome}};
    if (!e.hook.empty()) j["hook"] = e.hook;
    if (!e.why.empty()) j["why"] = e.why;
    if (e.micros >= 0) j["micros"] = e.micros;
    if (!e.changes.empty()) j["changes"] = e.changes;
    out.push_back(std::move(j));
  }
  return out;
}

void print_trace_text(std::ostream& out, const Trace& trace) {
  // STEP takes the longest step's width ("validate"); SUBJECT the longest subject of this trace,
  // so a long rule name (RemoveDeploymentConcurrencyLeaseForOldClientVersions.before) never runs
  // into the outcome, and the outcomes stay in one column.
  auto subject_of = [](const TraceEvent& e) {
    return printable(e.hook.empty() ? e.entry : e.entry + "." + e.hook);
  };
  std::size_t width = 0;
  for (const TraceEvent& e : trace) width = std::max(width, subject_of(e).size());
  for (const TraceEvent& e : trace) {
    out << "trace: " << std::left << std::setw(8) << e.step << ' '
        << std::setw(static_cast<int>(width)) << subject_of(e) << ' ' << e.outcome;
    if (e.micros >= 0) out << "  " << e.micros << " us";
    if (!e.why.empty()) out << "  (" << printable(e.why) << ")";
    if (!e.changes.empty())
      out << "  " << printable(e.changes.dump(-1, ' ', false, Json::error_handler_t::replace));
    out << '\n';
  }
}

Json run_to_json(const Run& run, const StatePtr& state) {
  Json out{
      // Every run's JSON names it as run_id / run_kind (docs/cli.md, "Output"); id and kind stay.
      {"run_id", run.id},
      {"run_kind", kind_name(run.kind)},
      {"id", run.id},
      {"kind", kind_name(run.kind)},
      {"name", run.name},
      {"created", format_timestamp(run.created)},
      {"state", state_to_json(state)},
      {"state_id", optional_json(run.state_id)},
      {"state_type", run.state_type ? Json(type_name(*run.state_type)) : Json(nullptr)},
      {"state_name", optional_json(run.state_name)},
      {"state_timestamp", optional_time(run.state_timestamp)},
      {"run_count", run.run_count},
      {"expected_start_time", optional_time(run.expected_start_time)},
      {"next_scheduled_start_time", optional_time(run.next_scheduled_start_time)},
      {"start_time", optional_time(run.start_time)},
      {"end_time", optional_time(run.end_time)},
      {"total_run_time", static_cast<double>(run.total_run_time_us) / kMicrosPerSecond},
      {"empirical_policy", run.empirical_policy},
      {"tags", run.tags},
  };
  if (run.kind == RunKind::kFlow) {
    out["flow_id"] = optional_json(run.flow_id);
    out["deployment_id"] = optional_json(run.deployment_id);
    out["parent_task_run_id"] = optional_json(run.parent_task_run_id);
    out["infrastructure_pid"] = optional_json(run.infrastructure_pid);
    out["work_queue_id"] = optional_json(run.work_queue_id);
  } else {
    out["flow_run_id"] = optional_json(run.flow_run_id);
    out["flow_run_run_count"] = run.flow_run_run_count;
    out["task_key"] = optional_json(run.task_key);
  }
  return out;
}

void print_run_text(std::ostream& out, const Run& run, const StatePtr& state) {
  const Json j = run_to_json(run, state);
  out << std::left;
  out << std::setw(27) << "id:" << run.id << '\n';
  out << std::setw(27) << "kind:" << kind_name(run.kind) << '\n';
  out << std::setw(27) << "name:" << printable(run.name) << '\n';
  out << std::setw(27) << "state:" << describe(state);
  if (state) {
    if (state->message) out << quote_text(*state->message);
    out << "  since " << format_timestamp(state->timestamp);
  }
  out << '\n';
  for (const auto& [key, value] : j.items()) {
    if (key == "run_id" || key == "run_kind" || key == "id" || key == "kind" || key == "name" ||
        key == "state")
      continue;
    out << std::setw(27) << key + ":"
        << (value.is_null()
                ? "-"
                : printable(value.is_string()
                                ? value.get<std::string>()
                                : value.dump(-1, ' ', false, Json::error_handler_t::replace)))
        << '\n';
  }
}

void print_history_text(std::ostream& out, const std::vector<StatePtr>& states) {
  for (const StatePtr& s : states) {
    out << format_timestamp(s->timestamp) << "  " << std::left << std::setw(11)
        << type_name(s->type) << ' ' << printable(s->name);
    if (s->message) out << " " << quote_text(*s->message);
    out << "  " << s->id << '\n';
  }
}

Json log_entry_to_json(const LogEntry& e) {
  return Json{
      {"id", e.id},
      {"run_id", e.run_id},
      {"run_kind", kind_name(e.run_kind)},
      {"at", format_timestamp(e.at)},
      {"policy", e.policy},
      {"forced", e.forced},
      {"initial_type", e.initial_type ? Json(type_name(*e.initial_type)) : Json(nullptr)},
      {"proposed_state", e.proposed_state},
      {"status", e.status},
      {"details", e.details},
      {"decided_by", optional_json(e.decided_by)},
      {"validated_state_id", optional_json(e.validated_state_id)},
      {"rule_signature", e.rule_signature.to_strings()},
      {"finalization_signature", e.finalization_signature.to_strings()},
      {"error", optional_json(e.error)},
      {"duration_us", e.duration_us},
  };
}

void print_log_text(std::ostream& out, const std::vector<LogEntry>& entries,
                    const std::vector<StatePtr>& history) {
  std::unordered_map<std::string_view, const State*> states;
  for (const StatePtr& s : history) states.emplace(s->id, s.get());
  for (const LogEntry& e : entries) {
    const std::string proposed =
        e.proposed_state.is_object() ? e.proposed_state.value("type", "?") : "NONE";
    out << format_timestamp(e.at) << "  "
        << (e.initial_type ? std::string(type_name(*e.initial_type)) : "NONE") << " -> " << proposed
        << "  " << std::left << std::setw(6) << e.status;
    if (e.details.contains("reason") && e.details["reason"].is_string())
      out << " " << quote_text(e.details["reason"].get<std::string>());
    // Where the run went: for a REJECT into another state that is not the proposed type.
    if (e.validated_state_id) {
      const auto it = states.find(*e.validated_state_id);
      if (it != states.end())
        out << "  => " << type_name(it->second->type) << " '" << printable(it->second->name) << "'";
    }
    if (e.error) out << "  error: " << printable(*e.error);
    out << "\n    ";
    if (e.decided_by) out << "decided by " << printable(*e.decided_by) << "; ";
    out << "policy " << printable(e.policy) << (e.forced ? " (forced)" : "") << "; rules: "
        << signature_summary(e.rule_signature.size(), builtin_transforms(e.rule_signature))
        << "; finalized: "
        << signature_summary(e.finalization_signature.size(),
                             builtin_transforms(e.finalization_signature))
        << '\n';
  }
}

}  // namespace runctl::cli
