#include "util/text.hpp"

#include <algorithm>
#include <cctype>

namespace runctl {

bool is_valid_utf8(std::string_view s) {
  // RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

std::optional<std::string> text_problem(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    return "is longer than " + std::to_string(max_bytes) + " bytes (" +
           std::to_string(text.size()) + ")";
  if (text.find('\0') != std::string_view::npos) return std::string("contains a NUL byte");
  if (!is_valid_utf8(text)) return std::string("is not valid UTF-8");
  return std::nullopt;
}

std::optional<std::string> json_depth_problem(std::string_view s, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return "nested deeper than " + std::to_string(max_depth) + " levels";
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

namespace {

// Lower case, without the separators people leave out or mistype ("core-flow", "CoreFlow").
std::string fold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '-' && c != '_' && c != ' ')
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

// Levenshtein distance, one row at a time.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  const std::string folded = fold(word);
  // Input is untrusted and may be megabytes; nothing that long is a slip of a known name.
  if (folded.empty() || folded.size() > 200) return std::nullopt;
  const std::size_t allowed = std::max<std::size_t>(1, folded.size() / 3);
  std::optional<std::string> best;
  std::size_t best_distance = allowed + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t d = edit_distance(folded, fold(candidate));
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const auto match = closest_match(word, candidates);
  return match ? " (did you mean " + *match + "?)" : std::string();
}

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else if (c == 0xC2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      // U+0080..U+009F: C1 controls, CSI (U+009B) among them, which terminals obey too.
      const auto low = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out.push_back(kHex[low >> 4]);
      out.push_back(kHex[low & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

namespace {

// Length of the UTF-8 sequence starting with this byte; a stray continuation or invalid byte
// counts as one character, so malformed text is still cut somewhere sensible.
std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Byte offsets where each code point starts: Python measures and slices str in code points.
std::vector<std::size_t> code_point_starts(const std::string& s) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size();) {
    starts.push_back(i);
    i += std::min(sequence_length(static_cast<unsigned char>(s[i])), s.size() - i);
  }
  return starts;
}

}  // namespace

std::string truncated_to(std::size_t limit, const std::optional<std::string>& text) {
  if (!text || text->empty()) return "";
  const std::string& s = *text;
  // Every code point is at least one byte, so a short enough byte string needs no counting.
  if (s.size() <= limit) return s;
  const std::vector<std::size_t> starts = code_point_starts(s);
  const std::size_t length = starts.size();
  if (length <= limit) return s;
  const std::size_t half = limit / 2;
  // value[:half] and value[-half:]; with half == 0 Python's value[-0:] is the whole string.
  const std::string beginning = s.substr(0, starts[half]);
  const std::string end = half == 0 ? s : s.substr(starts[length - half]);
  const std::size_t end_length = half == 0 ? length : half;
  const std::size_t omitted = length - (half + end_length);
  const std::string proposed =
      beginning + "..." + std::to_string(omitted) + " additional characters..." + end;
  // Only if it really is shorter, in characters.
  return code_point_starts(proposed).size() < length ? proposed : s;
}

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\0') c = ' ';
  // Any other control character is shown escaped: an error quoting its input must not send
  // that input's escape sequences to the terminal.
  text = printable(text);
  // Messages quote their input; a 100 KB argument must not become a 100 KB error line.
  constexpr std::size_t kMaxBytes = 1000;
  if (text.size() > kMaxBytes) {
    std::size_t cut = kMaxBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    text = text.substr(0, cut) + "... (" + std::to_string(text.size()) + " bytes)";
  }
  return text;
}

std::string without_json_exception_tag(std::string message) {
  if (const auto pos = message.find("] ");
      message.starts_with("[json.exception.") && pos != std::string::npos)
    message.erase(0, pos + 2);
  return message;
}

}  // namespace runctl
