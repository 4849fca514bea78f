#include "cli/history_picture.hpp"

#include <string>
#include <string_view>

#include "cli/picture.hpp"
#include "engine/state_type.hpp"
#include "util/time.hpp"

namespace runctl::cli {
namespace {

// A reason can be a stack trace: a label keeps its start, cut on a UTF-8 character boundary.
constexpr std::size_t kReasonChars = 60;

std::string shortened(std::string_view text) {
  if (text.size() <= kReasonChars) return std::string(text);
  std::size_t end = kReasonChars;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...";
}

struct Colour {
  std::string_view status;
  std::string_view colour;
};

// The same colours as the policy matrix graphs give these outcomes.
constexpr Colour kColours[] = {{"REJECT", "red"}, {"WAIT", "blue"}, {"ABORT", "gray40"}};

std::string_view colour_of(const LogEntry& e) {
  for (const Colour& c : kColours)
    if (c.status == e.status) return c.colour;
  return "purple";
}

// The lines of a state's label: type, the name when it is not the type's own, the time.
std::vector<std::string> state_lines(const State& s) {
  std::vector<std::string> lines{std::string(type_name(s.type))};
  if (s.name != default_state_name(s.type)) lines.push_back(s.name);
  lines.push_back(format_timestamp(s.timestamp));
  return lines;
}

std::string proposed_type(const LogEntry& e) {
  if (!e.proposed_state.is_object()) return "NONE";
  const auto it = e.proposed_state.find("type");
  return it != e.proposed_state.end() && it->is_string() ? it->get<std::string>() : "?";
}

// The lines of an attempt's label: status and proposed type, who decided, why, when.
std::vector<std::string> attempt_lines(const LogEntry& e) {
  std::vector<std::string> lines{e.status + " " + proposed_type(e)};
  if (e.decided_by) lines.push_back("by " + shortened(*e.decided_by));
  const auto reason = e.details.find("reason");
  if (e.details.is_object() && reason != e.details.end() && reason->is_string())
    lines.push_back(shortened(reason->get<std::string>()));
  if (e.error) lines.push_back("error " + shortened(*e.error));
  lines.push_back(format_timestamp(e.at));
  return lines;
}

// The index of the state an attempt is hung on: the newest one at or before it, or -1 when it
// came before every state drawn.
std::ptrdiff_t state_before(const HistoryPicture& p, const LogEntry& e) {
  std::ptrdiff_t at = -1;
  for (std::size_t i = 0; i < p.states.size() && p.states[i]->timestamp <= e.at; ++i)
    at = static_cast<std::ptrdiff_t>(i);
  return at;
}

bool needs_start(const HistoryPicture& p) {
  for (const LogEntry& e : p.attempts)
    if (state_before(p, e) < 0) return true;
  return false;
}

std::string start_label(const HistoryPicture& p) {
  return p.earlier_left_out ? "earlier states not shown" : "no state";
}

std::string node_id(std::ptrdiff_t state) {
  return state < 0 ? "start" : "s" + std::to_string(state);
}

std::string title(const HistoryPicture& p) {
  return std::string(kind_name(p.run->kind)) + " run " + p.run->id + ", " +
         std::to_string(p.states.size()) + " states, " + std::to_string(p.attempts.size()) +
         " attempts not accepted";
}

// Each line escaped on its own, so that a newline in user text stays inside its line.
std::string mermaid_label(const std::vector<std::string>& lines) {
  std::string joined;
  for (const std::string& line : lines) {
    const std::string q = mermaid_quoted(line);
    joined += (joined.empty() ? "" : "<br/>") + q.substr(1, q.size() - 2);
  }
  return '"' + joined + '"';
}

std::string dot_label(const std::vector<std::string>& lines) {
  std::string joined;
  for (const std::string& line : lines) {
    std::string q = dot_quoted(line);
    joined += (joined.empty() ? "" : "\\n") + q.substr(1, q.size() - 2);
  }
  return '"' + joined + '"';
}

}  // namespace

bool shown_attempt(const LogEntry& entry) {
  return entry.status != "ACCEPT";
}

void print_history_mermaid(std::ostream& out, const HistoryPicture& p) {
  out << "flowchart LR\n    %% " << mermaid_text(title(p)) << '\n';
  if (needs_start(p)) out << "    start([" << mermaid_quoted(start_label(p)) << "])\n";
  for (std::size_t i = 0; i < p.states.size(); ++i) {
    out << "    s" << i << '[' << mermaid_label(state_lines(*p.states[i])) << "]\n";
    if (i) out << "    s" << i - 1 << " --> s" << i << '\n';
  }
  for (std::size_t i = 0; i < p.attempts.size(); ++i) {
    const LogEntry& e = p.attempts[i];
    out << "    a" << i << "{{" << mermaid_label(attempt_lines(e)) << "}}\n"
        << "    " << node_id(state_before(p, e)) << " -.-> a" << i << '\n'
        << "    class a" << i << ' ' << e.status << '\n';
  }
  if (p.attempts.empty()) return;
  for (const Colour& c : kColours)
    out << "    classDef " << c.status << " stroke:" << (c.colour == "gray40" ? "gray" : c.colour)
        << ",stroke-dasharray:4\n";
}

void print_history_dot(std::ostream& out, const HistoryPicture& p) {
  out << "digraph history {\n  label=" << dot_quoted(title(p)) << ";\n  labelloc=t;\n"
      << "  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  if (needs_start(p)) out << "  start [label=" << dot_quoted(start_label(p)) << "];\n";
  for (std::size_t i = 0; i < p.states.size(); ++i) {
    out << "  s" << i << " [label=" << dot_label(state_lines(*p.states[i])) << "];\n";
    if (i) out << "  s" << i - 1 << " -> s" << i << ";\n";
  }
  for (std::size_t i = 0; i < p.attempts.size(); ++i) {
    const LogEntry& e = p.attempts[i];
    out << "  a" << i << " [shape=note, style=\"\", color=\"" << colour_of(e)
        << "\", label=" << dot_label(attempt_lines(e)) << "];\n"
        << "  " << node_id(state_before(p, e)) << " -> a" << i << " [style=dashed, color=\""
        << colour_of(e) << "\", arrowhead=none];\n";
  }
  out << "}\n";
}

}  // namespace runctl::cli
