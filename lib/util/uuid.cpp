#include "util/uuid.hpp"

#include <cctype>

namespace runctl {

RandomUuidGenerator::RandomUuidGenerator() {
  std::random_device device;
  rng_.seed((static_cast<std::uint64_t>(device()) << 32) ^ device());
}

std::string RandomUuidGenerator::next() {
  std::uint64_t hi = rng_(), lo = rng_();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  // Filled in a fixed buffer: every state minted costs one, so no per-character push_back.
  char out[36];
  char* p = out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) *p++ = '-';
    const std::uint64_t word = i < 16 ? hi : lo;
    *p++ = kHex[(word >> ((15 - i % 16) * 4)) & 0xF];
  }
  return std::string(out, sizeof out);
}

std::optional<std::string> normalize_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash) {
      if (out[i] != '-') return std::nullopt;
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(out[i]))) return std::nullopt;
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  }
  return out;
}

}  // namespace runctl
