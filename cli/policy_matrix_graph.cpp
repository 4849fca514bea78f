// policy matrix / policy diff as pictures: a Mermaid stateDiagram-v2 (GitHub renders it in
// markdown) and a Graphviz digraph.
#include <map>
#include <string>

#include "cli/picture.hpp"
#include "cli/policy_matrix_render.hpp"

namespace runctl::cli {
namespace {

struct EdgeStyle {
  std::string_view outcome;
  std::string_view colour;
  std::string_view style;
};

// Edge colour and line by outcome: the graph's legend is this table.
constexpr EdgeStyle kEdgeStyles[] = {
    {"ACCEPT", "darkgreen", "solid"}, {"REJECT", "red", "dashed"},   {"REDIRECT", "orange", "bold"},
    {"WAIT", "blue", "dotted"},       {"ABORT", "gray40", "dashed"}, {"ERROR", "purple", "bold"},
};

const EdgeStyle& style_of(const MatrixCell& c) {
  for (const EdgeStyle& s : kEdgeStyles)
    if (s.outcome == cell_outcome(c)) return s;
  return kEdgeStyles[0];
}

// Where an edge goes: the state the run ends up in for a redirect, else the proposed type.
std::string edge_target(const MatrixCell& c) {
  return c.redirected && c.state_type ? std::string(type_name(*c.state_type))
                                      : std::string(type_name(c.to));
}

std::string decider(const MatrixCell& c) {
  return c.decided_by ? *c.decided_by : std::string();
}

void mermaid_header(std::ostream& out, const std::string& title) {
  out << "stateDiagram-v2\n    %% " << mermaid_text(title) << "\n"
      << "    state \"no state\" as NONE\n";
}

void dot_header(std::ostream& out, const std::string& title) {
  out << "digraph policy {\n  label=" << dot_quoted(title) << ";\n  labelloc=t;\n"
      << "  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=10];\n  \"NONE\" [label=\"no state\"];\n";
}

}  // namespace

void print_matrix_mermaid(std::ostream& out, const PolicyMatrix& m) {
  mermaid_header(out, m.policy + ", " + std::string(kind_name(m.kind)) +
                          " runs. Edges are accepted proposals and redirections, the notes list "
                          "the rest");
  // Rejections, waits and aborts would be a hairball as edges: one note per current state.
  std::map<std::string, std::map<std::string, std::string>> refused;  // from -> outcome -> types
  for (const MatrixCell& c : m.cells) {
    const std::string from = from_name(c.from), outcome(cell_outcome(c));
    if (outcome == "ACCEPT") {
      out << "    " << from << " --> " << type_name(c.to);
      if (c.decided_by) out << " : " << mermaid_text(*c.decided_by);
      out << '\n';
    } else if (outcome == "REDIRECT") {
      out << "    " << from << " --> " << edge_target(c) << " : proposed " << type_name(c.to)
          << ", " << mermaid_text(*c.state_name) << " by " << mermaid_text(decider(c)) << '\n';
    } else {
      std::string& types = refused[from][outcome];
      types += (types.empty() ? "" : ", ") + std::string(type_name(c.to));
    }
  }
  for (MaybeType from : kMatrixFromStates) {
    const auto it = refused.find(from_name(from));
    if (it == refused.end()) continue;
    out << "    note right of " << it->first << '\n';
    for (const auto& [outcome, types] : it->second)
      out << "        " << outcome << " " << types << '\n';
    out << "    end note\n";
  }
}

void print_diff_mermaid(std::ostream& out, const PolicyMatrix& a, const PolicyMatrix& b,
                        const std::vector<CellDiff>& diff) {
  mermaid_header(out, "A " + a.policy + " vs B " + b.policy + ", " +
                          std::string(kind_name(a.kind)) +
                          " runs. The cells they decide "
                          "differently");
  if (diff.empty()) out << "    state \"no differences\" as same\n";
  for (const CellDiff& d : diff) {
    out << "    " << from_name(d.a->from) << " --> " << type_name(d.a->to) << " : A "
        << cell_outcome(*d.a);
    if (d.a->decided_by) out << " by " << mermaid_text(*d.a->decided_by);
    out << ", B " << cell_outcome(*d.b);
    if (d.b->decided_by) out << " by " << mermaid_text(*d.b->decided_by);
    out << '\n';
  }
}

void print_matrix_dot(std::ostream& out, const PolicyMatrix& m) {
  dot_header(out, m.policy + ", " + std::string(kind_name(m.kind)) + " runs");
  for (const MatrixCell& c : m.cells) {
    const EdgeStyle& s = style_of(c);
    std::string label = decider(c);
    if (c.redirected) label += "\n(proposed " + std::string(type_name(c.to)) + ")";
    out << "  \"" << from_name(c.from) << "\" -> \"" << edge_target(c) << "\" [color=\"" << s.colour
        << "\", style=" << s.style << ", label=" << dot_quoted(label) << "];\n";
  }
  out << "}\n";
}

void print_diff_dot(std::ostream& out, const PolicyMatrix& a, const PolicyMatrix& b,
                    const std::vector<CellDiff>& diff) {
  dot_header(
      out, "A " + a.policy + " vs B " + b.policy + ", " + std::string(kind_name(a.kind)) + " runs");
  // B's outcome colours the edge: the diff is read as what changing A into B does.
  for (const CellDiff& d : diff) {
    const EdgeStyle& s = style_of(*d.b);
    const auto side = [](const char* name, const MatrixCell& c) {
      std::string text = std::string(name) + " " + std::string(cell_outcome(c));
      if (c.decided_by) text += " by " + *c.decided_by;
      return text;
    };
    const std::string label = side("A", *d.a) + "\n" + side("B", *d.b);
    out << "  \"" << from_name(d.a->from) << "\" -> \"" << type_name(d.a->to) << "\" [color=\""
        << s.colour << "\", style=" << s.style << ", label=" << dot_quoted(label) << "];\n";
  }
  out << "}\n";
}

}  // namespace runctl::cli
