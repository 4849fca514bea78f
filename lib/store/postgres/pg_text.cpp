#include "store/postgres/pg_text.hpp"

#include <cstdio>

#include "engine/state_text.hpp"

namespace runctl::pg {

std::string first_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string strings_text(const std::vector<std::string>& items) {
  std::size_t size = 2;
  for (const std::string& item : items) size += item.size() + 3;
  std::string out;
  out.reserve(size);
  out.push_back('[');
  for (const std::string& item : items) {
    if (out.size() > 1) out.push_back(',');
    append_json_string(out, item);
  }
  out.push_back(']');
  return out;
}

std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const std::string& item : items) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    for (char c : item) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string double_text(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

int Params::nul_index() const {
  // Every non-null value is one of the strings kept here, in order.
  std::size_t k = 0;
  for (std::size_t i = 0; i < values_.size(); ++i) {
    if (values_[i] == nullptr) continue;
    if (kept_[k++].find('\0') != std::string::npos) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace runctl::pg
