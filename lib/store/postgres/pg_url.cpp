#include "store/postgres/pg_url.hpp"

#include <string_view>

namespace runctl::pg {
namespace {

constexpr std::string_view kMask = "****";
// Query parameters whose values are secret (libpq's keywords).
constexpr std::string_view kSecretKeys[] = {"password", "sslpassword"};

struct Span {
  std::size_t begin = 0, end = 0;  // [begin, end) in the URI
};

// Where the URI's secrets are: the password of its user info, and the values of its secret
// query parameters.
std::vector<Span> secret_spans(const std::string& url) {
  std::vector<Span> out;
  const std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) return out;
  const std::size_t start = scheme + 3;
  // libpq reads user info up to the first '@' before any '/'. Should a password hold an
  // unencoded '/', libpq misreads the URI, and the part it would show is masked anyway: the
  // user info then runs to the last '@' before the query.
  std::size_t at = url.find_first_of("@/", start);
  if (at == std::string::npos || url[at] != '@') {
    const std::size_t query = url.find('?', start);
    const std::size_t last_at = url.rfind('@', query == std::string::npos ? url.size() : query);
    at = last_at != std::string::npos && last_at >= start ? last_at : std::string::npos;
  }
  std::size_t query_from = start;
  if (at != std::string::npos) {
    const std::size_t colon = url.find(':', start);
    if (colon != std::string::npos && colon < at) out.push_back({colon + 1, at});
    query_from = at + 1;
  }
  const std::size_t query = url.find('?', query_from);
  if (query == std::string::npos) return out;
  std::size_t p = query + 1;
  while (p < url.size()) {
    std::size_t amp = url.find('&', p);
    if (amp == std::string::npos) amp = url.size();
    const std::size_t eq = url.find('=', p);
    if (eq != std::string::npos && eq < amp) {
      const std::string_view key(url.data() + p, eq - p);
      for (std::string_view secret : kSecretKeys)
        if (key == secret) out.push_back({eq + 1, amp});
    }
    p = amp + 1;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

}  // namespace

std::string masked_url(const std::string& url) {
  std::string out;
  std::size_t from = 0;
  for (const Span& s : secret_spans(url)) {
    out.append(url, from, s.begin - from);
    out.append(kMask);
    from = s.end;
  }
  out.append(url, from, std::string::npos);
  return out;
}

std::vector<std::string> url_secrets(const std::string& url) {
  std::vector<std::string> out;
  for (const Span& s : secret_spans(url)) {
    if (s.end <= s.begin) continue;
    const std::string raw = url.substr(s.begin, s.end - s.begin);
    out.push_back(raw);
    const std::string decoded = percent_decoded(raw);
    if (decoded != raw && !decoded.empty()) out.push_back(decoded);
  }
  return out;
}

std::string scrub(std::string message, const std::string& url) {
  for (const std::string& secret : url_secrets(url)) {
    for (std::size_t p = message.find(secret); p != std::string::npos;
         p = message.find(secret, p + kMask.size()))
      message.replace(p, secret.size(), kMask);
  }
  return message;
}

}  // namespace runctl::pg
