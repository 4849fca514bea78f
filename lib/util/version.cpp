#include "util/version.hpp"

#include <cctype>
#include <string>

namespace runctl {
namespace {

bool read_number(std::string_view s, size_t& pos, long& out) {
  const size_t start = pos;
  out = 0;
  while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])) && pos - start < 15)
    out = out * 10 + (s[pos++] - '0');
  return pos > start;
}

bool consume(std::string_view s, size_t& pos, std::string_view word) {
  if (s.substr(pos, word.size()) != word) return false;
  pos += word.size();
  return true;
}

void skip_separator(std::string_view s, size_t& pos) {
  if (pos < s.size() && (s[pos] == '.' || s[pos] == '-' || s[pos] == '_')) ++pos;
}

// The suffixes of PEP 440, in their normalised spellings and common aliases.
bool read_pre(std::string_view s, size_t& pos, int& kind) {
  static const std::pair<std::string_view, int> kWords[] = {
      {"alpha", 0}, {"beta", 1}, {"preview", 2}, {"pre", 2},
      {"rc", 2},    {"a", 0},    {"b", 1},       {"c", 2}};
  for (const auto& [word, k] : kWords)
    if (consume(s, pos, word)) {
      kind = k;
      return true;
    }
  return false;
}

int compare_optional(const std::optional<long>& a, const std::optional<long>& b, bool absent_high) {
  if (a == b) return 0;
  if (!a) return absent_high ? 1 : -1;
  if (!b) return absent_high ? -1 : 1;
  return *a < *b ? -1 : 1;
}

}  // namespace

std::optional<Version> parse_version(std::string_view raw) {
  std::string lowered(raw);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view s = lowered;
  if (auto plus = s.find('+'); plus != std::string_view::npos) s = s.substr(0, plus);
  size_t pos = 0;
  if (pos < s.size() && s[pos] == 'v') ++pos;
  Version v;
  long n;
  if (!read_number(s, pos, n)) return std::nullopt;
  v.release.push_back(n);
  while (pos + 1 < s.size() && s[pos] == '.' &&
         std::isdigit(static_cast<unsigned char>(s[pos + 1]))) {
    ++pos;
    read_number(s, pos, n);
    v.release.push_back(n);
  }
  size_t mark = pos;
  skip_separator(s, mark);
  int kind;
  if (read_pre(s, mark, kind)) {
    pos = mark;
    skip_separator(s, pos);
    long number = 0;
    read_number(s, pos, number);
    v.pre = std::make_pair(kind, number);
  }
  mark = pos;
  skip_separator(s, mark);
  if (consume(s, mark, "post") || consume(s, mark, "rev") || consume(s, mark, "r")) {
    pos = mark;
    skip_separator(s, pos);
    long number = 0;
    read_number(s, pos, number);
    v.post = number;
  }
  mark = pos;
  skip_separator(s, mark);
  if (consume(s, mark, "dev")) {
    pos = mark;
    long number = 0;
    read_number(s, pos, number);
    v.dev = number;
  }
  if (pos != s.size()) return std::nullopt;
  return v;
}

int compare_versions(const Version& a, const Version& b) {
  const size_t n = std::max(a.release.size(), b.release.size());
  for (size_t i = 0; i < n; ++i) {
    const long x = i < a.release.size() ? a.release[i] : 0;
    const long y = i < b.release.size() ? b.release[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  // 1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1: a dev release with no pre/post sorts before the
  // pre-releases.
  auto pre_key = [](const Version& v) -> std::pair<int, long> {
    if (v.pre) return *v.pre;
    if (v.dev && !v.post) return {-1, 0};
    return {3, 0};
  };
  if (pre_key(a) != pre_key(b)) return pre_key(a) < pre_key(b) ? -1 : 1;
  if (int c = compare_optional(a.post, b.post, false)) return c;
  return compare_optional(a.dev, b.dev, true);
}

}  // namespace runctl
