// The parts of policy matrix rendering every format shares (outcomes, symbols, names), and the
// text and JSON formats. The graph formats are in policy_matrix_graph.cpp.
#include "cli/policy_matrix_render.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "util/text.hpp"

namespace runctl::cli {
namespace {

struct Outcome {
  std::string_view name;
  char symbol;
  std::string_view legend;
};

// One row per outcome class: the grid symbol and the legend say the same thing in one place.
constexpr Outcome kOutcomes[] = {
    {"ACCEPT", 'A', "accepted"},
    {"REJECT", 'R', "rejected, the run keeps its state"},
    {"REDIRECT", '>', "rejected into another state"},
    {"WAIT", 'W', "wait and propose again"},
    {"ABORT", 'X', "aborted"},
    {"ERROR", '!', "a hook raised (set-state exits 70)"},
};

const Outcome& outcome_of(const MatrixCell& cell) {
  if (cell.error) return kOutcomes[5];
  switch (cell.status) {
    case SetStateStatus::kAccept:
      return kOutcomes[0];
    case SetStateStatus::kReject:
      return cell.redirected ? kOutcomes[2] : kOutcomes[1];
    case SetStateStatus::kWait:
      return kOutcomes[3];
    case SetStateStatus::kAbort:
      break;
  }
  return kOutcomes[4];
}

// Ten characters a column: the longest type name (CANCELLING) fills one, and a row label plus
// nine columns is exactly 100.
constexpr int kColumn = 10;

std::string centred(std::string_view text, int width) {
  const int left = std::max(0, (width - static_cast<int>(text.size())) / 2);
  std::string out(static_cast<std::size_t>(left), ' ');
  out += text;
  out.resize(std::max<std::size_t>(out.size(), static_cast<std::size_t>(width)), ' ');
  return out;
}

// Words of `text` from `indent` onwards, broken before column 100.
void print_wrapped(std::ostream& out, const std::string& text, std::size_t indent) {
  constexpr std::size_t kWidth = 100;
  std::size_t column = indent;
  out << std::string(indent, ' ');
  std::size_t start = 0;
  bool first = true;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::size_t length = end - start;
    if (!first && column + 1 + length > kWidth) {
      out << '\n' << std::string(indent, ' ');
      column = indent;
      first = true;
    }
    if (!first) {
      out << ' ';
      ++column;
    }
    out << std::string_view(text).substr(start, length);
    column += length;
    first = false;
    start = end + 1;
  }
  out << '\n';
}

std::string cell_name(const MatrixCell& c) {
  return from_name(c.from) + "->" + std::string(type_name(c.to));
}

// "REJECT into SCHEDULED 'AwaitingRetry' by RetryFailedFlows: reason"
std::string decision_text(const MatrixCell& c) {
  std::string out(outcome_of(c).name);
  if (c.redirected && c.state_type)
    out += " into " + std::string(type_name(*c.state_type)) + " '" + printable(*c.state_name) + "'";
  if (c.decided_by) out += " by " + printable(*c.decided_by);
  if (c.error)
    out += ": " + printable(*c.error);
  else if (c.reason)
    out += ": " + printable(*c.reason);
  return out;
}

std::string kind_text(const PolicyMatrix& m) {
  std::string out = std::string(kind_name(m.kind)) + " runs";
  out += m.run_id ? ", run " + *m.run_id : ", the default run";
  return out;
}

}  // namespace

char cell_symbol(const MatrixCell& cell) {
  return outcome_of(cell).symbol;
}
std::string_view cell_outcome(const MatrixCell& cell) {
  return outcome_of(cell).name;
}
std::string from_name(MaybeType from) {
  return std::string(type_name(from));
}

nlohmann::ordered_json cell_to_json(const MatrixCell& c) {
  using J = nlohmann::ordered_json;
  return J{{"from", from_name(c.from)},
           {"to", type_name(c.to)},
           {"status", status_name(c.status)},
           {"state_type", c.state_type ? J(type_name(*c.state_type)) : J(nullptr)},
           {"state_name", c.state_name ? J(*c.state_name) : J(nullptr)},
           {"decided_by", c.decided_by ? J(*c.decided_by) : J(nullptr)},
           {"reason", c.reason ? J(*c.reason) : J(nullptr)},
           {"error", c.error ? J(*c.error) : J(nullptr)}};
}

nlohmann::ordered_json matrix_to_json(const PolicyMatrix& m) {
  nlohmann::ordered_json cells = nlohmann::ordered_json::array();
  for (const MatrixCell& c : m.cells) cells.push_back(cell_to_json(c));
  return {{"policy", m.policy},
          {"run_kind", kind_name(m.kind)},
          {"run_id", m.run_id ? nlohmann::ordered_json(*m.run_id) : nlohmann::ordered_json()},
          {"cells", cells}};
}

nlohmann::ordered_json diff_to_json(const PolicyMatrix& a, const PolicyMatrix& b,
                                    const std::vector<CellDiff>& diff) {
  nlohmann::ordered_json cells = nlohmann::ordered_json::array();
  for (const CellDiff& d : diff) {
    nlohmann::ordered_json left = cell_to_json(*d.a), right = cell_to_json(*d.b);
    nlohmann::ordered_json cell{{"from", left["from"]}, {"to", left["to"]}};
    left.erase("from"), left.erase("to"), right.erase("from"), right.erase("to");
    cell["a"] = left;
    cell["b"] = right;
    cells.push_back(cell);
  }
  return {{"a", a.policy},
          {"b", b.policy},
          {"run_kind", kind_name(a.kind)},
          {"run_id", a.run_id ? nlohmann::ordered_json(*a.run_id) : nlohmann::ordered_json()},
          {"cells", cells}};
}

void print_matrix_text(std::ostream& out, const PolicyMatrix& m) {
  out << printable(m.policy) << " (" << kind_text(m) << ")\n"
      << "rows: the current state; columns: the proposed type\n\n";
  out << centred("from \\ to", kColumn);
  for (int t = 0; t < kStateTypeCount; ++t)
    out << centred(type_name(static_cast<StateType>(t)), kColumn);
  out << '\n';
  for (std::size_t row = 0; row < kMatrixFromStates.size(); ++row) {
    std::string line = centred(from_name(kMatrixFromStates[row]), kColumn);
    for (int t = 0; t < kStateTypeCount; ++t)
      line += centred(std::string(1, cell_symbol(m.cells[row * kStateTypeCount + t])), kColumn);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
  out << '\n';
  // The legend breaks between entries only, so no symbol is parted from its meaning.
  std::string line;
  for (const Outcome& o : kOutcomes) {
    const std::string item = std::string(1, o.symbol) + " " + std::string(o.legend);
    if (!line.empty() && line.size() + 3 + item.size() > 100) {
      out << line << '\n';
      line.clear();
    }
    line += (line.empty() ? "" : "   ") + item;
  }
  out << line << '\n';

  // The distinct decisions with a reason or a deciding entry, each once, with its cells.
  std::map<std::string, std::vector<const MatrixCell*>> decisions;
  std::vector<std::string> order;
  for (const MatrixCell& c : m.cells) {
    if (!c.reason && !c.decided_by && !c.error) continue;
    const std::string key = decision_text(c);
    auto [it, added] = decisions.try_emplace(key);
    if (added) order.push_back(key);
    it->second.push_back(&c);
  }
  if (order.empty()) return;
  out << "\nReasons, with the rule that gives each:\n";
  for (const std::string& key : order) {
    out << '\n';
    print_wrapped(out, std::string(1, cell_symbol(*decisions[key].front())) + " " + key, 2);
    std::string cells;
    for (const MatrixCell* c : decisions[key]) cells += (cells.empty() ? "" : " ") + cell_name(*c);
    print_wrapped(out, cells, 6);
  }
}

void print_diff_text(std::ostream& out, const PolicyMatrix& a, const PolicyMatrix& b,
                     const std::vector<CellDiff>& diff) {
  if (diff.empty()) {
    out << "no differences: " << printable(a.policy) << " and " << printable(b.policy)
        << " decide every cell the same (" << kind_text(a) << ")\n";
    return;
  }
  out << diff.size() << (diff.size() == 1 ? " cell differs" : " cells differ") << " ("
      << kind_text(a) << "):\n  A = " << printable(a.policy) << "\n  B = " << printable(b.policy)
      << '\n';
  for (const CellDiff& d : diff) {
    out << '\n' << cell_name(*d.a) << '\n';
    print_wrapped(out, "A: " + decision_text(*d.a), 2);
    print_wrapped(out, "B: " + decision_text(*d.b), 2);
  }
}

}  // namespace runctl::cli
