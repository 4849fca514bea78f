// How `policy matrix` and `policy diff` print a PolicyMatrix: a text grid, JSON, a Mermaid
// state diagram or a Graphviz digraph (docs/pictures.md shows each).
#pragma once
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/invocation.hpp"
#include "service/policy_matrix.hpp"

namespace runctl::cli {

// The symbol of a cell in the text grid, from the outcome table in policy_matrix_render.cpp.
char cell_symbol(const MatrixCell& cell);
// "ACCEPT", "REJECT", "REDIRECT", "WAIT", "ABORT" or "ERROR": the edge classes of the graphs.
std::string_view cell_outcome(const MatrixCell& cell);
// "FAILED", "NONE"
std::string from_name(MaybeType from);

nlohmann::ordered_json cell_to_json(const MatrixCell& cell);
nlohmann::ordered_json matrix_to_json(const PolicyMatrix& m);
nlohmann::ordered_json diff_to_json(const PolicyMatrix& a, const PolicyMatrix& b,
                                    const std::vector<CellDiff>& diff);

void print_matrix_text(std::ostream& out, const PolicyMatrix& m);
void print_diff_text(std::ostream& out, const PolicyMatrix& a, const PolicyMatrix& b,
                     const std::vector<CellDiff>& diff);

void print_matrix_mermaid(std::ostream& out, const PolicyMatrix& m);
void print_diff_mermaid(std::ostream& out, const PolicyMatrix& a, const PolicyMatrix& b,
                        const std::vector<CellDiff>& diff);

void print_matrix_dot(std::ostream& out, const PolicyMatrix& m);
void print_diff_dot(std::ostream& out, const PolicyMatrix& a, const PolicyMatrix& b,
                    const std::vector<CellDiff>& diff);

}  // namespace runctl::cli
