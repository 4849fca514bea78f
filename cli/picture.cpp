#include "cli/picture.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl::cli {

// Mermaid labels end at a newline and break on a few characters: keep them to plain words.
std::string mermaid_text(std::string_view text) {
  std::string out;
  for (char ch : printable(text)) out += (ch == ':' || ch == ';' || ch == '#') ? ' ' : ch;
  return out;
}

// Inside quotes a colon or a semicolon is only text; what could still end the label or be
// read as markup becomes an entity code, '#' first among them so that no code is forged.
std::string mermaid_quoted(std::string_view text) {
  std::string out = "\"";
  for (char ch : printable(text)) {
    switch (ch) {
      case '#':
        out += "#35;";
        break;
      case '"':
        out += "#quot;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '`':
        out += "#96;";
        break;
      case ';':
        out += "#59;";
        break;
      default:
        out += ch;
    }
  }
  return out + '"';
}

std::string dot_quoted(std::string_view text) {
  std::string out = "\"";
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    if (start) out += "\\n";
    for (char ch : printable(text.substr(start, end - start))) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    start = end + 1;
  }
  return out + '"';
}

// Graphviz renders the DOT text; its absence is said in one line, not as a failed pipe.
void print_svg(const std::string& dot) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0)
    throw Error(ErrorKind::kUnavailable,
                "--format svg: no dot on PATH; install Graphviz (apt-get install graphviz)");
  std::cout.flush();
  FILE* pipe = popen("dot -Tsvg", "w");
  if (!pipe) throw Error(ErrorKind::kIo, "--format svg: cannot run dot");
  const bool written = std::fwrite(dot.data(), 1, dot.size(), pipe) == dot.size();
  const int status = pclose(pipe);
  if (!written || status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(ErrorKind::kIo, "--format svg: dot -Tsvg failed");
}

}  // namespace runctl::cli
