// UUID v4 generation and validation. The random source is injected so tests are exact.
#pragma once
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace runctl {

class UuidGenerator {
 public:
  virtual ~UuidGenerator() = default;
  virtual std::string next() = 0;
};

// Version-4 UUIDs from a 64-bit Mersenne Twister; seeded from std::random_device unless a
// seed is given.
class RandomUuidGenerator final : public UuidGenerator {
 public:
  RandomUuidGenerator();
  explicit RandomUuidGenerator(std::uint64_t seed) : rng_(seed) {}
  std::string next() override;

 private:
  std::mt19937_64 rng_;
};

// Canonical lower-case 8-4-4-4-12 form of a UUID in any case, or nullopt if it is not one.
std::optional<std::string> normalize_uuid(std::string_view text);

}  // namespace runctl
