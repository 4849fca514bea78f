// What the pictures (policy matrix, policy diff, history --format mermaid|dot|svg) share: how
// user text goes into a Mermaid or DOT label, and SVG through Graphviz.
#pragma once
#include <string>
#include <string_view>

namespace runctl::cli {

// Text for a Mermaid label outside quotes (an edge's " : label", a note): control characters
// escaped as printable() does, and the characters that end a label or start a comment dropped.
std::string mermaid_text(std::string_view text);

// A double-quoted Mermaid node label: control characters escaped as printable() does, and
// quotes, '#', ';', angle brackets and backticks as Mermaid entity codes.
std::string mermaid_quoted(std::string_view text);

// A DOT string; a newline in `text` becomes a line break of the label.
std::string dot_quoted(std::string_view text);

// Pipes `dot` through `dot -Tsvg` onto stdout. Without Graphviz on PATH: Error(kUnavailable),
// "--format svg: no dot on PATH; install Graphviz ...", and nothing is written.
void print_svg(const std::string& dot);

}  // namespace runctl::cli
