// The random source rules draw from (retry jitter, concurrency waits): injected and seedable so
// tests are exact.
#pragma once
#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace runctl {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Uniform in [low, high], as Python's random.uniform.
  virtual double uniform(double low, double high) = 0;
};

// CPython's Mersenne Twister: `SeededRandom(n)` draws what `random.seed(n)` followed by
// `random.uniform(...)` draws in Python, so a run seeded with `--seed N` and a Prefect server
// whose `random` module was seeded with N jitter retries and concurrency waits identically.
class SeededRandom final : public RandomSource {
 public:
  SeededRandom() : SeededRandom(std::random_device{}()) {}
  explicit SeededRandom(std::uint64_t seed) {
    // random.seed(int): the absolute value as little-endian 32-bit words, at least one.
    std::vector<std::uint32_t> key;
    for (std::uint64_t n = seed; n != 0; n >>= 32) key.push_back(static_cast<std::uint32_t>(n));
    if (key.empty()) key.push_back(0);
    init_by_array(key);
  }
  double uniform(double low, double high) override { return low + (high - low) * random(); }

 private:
  static constexpr int kN = 624;
  static constexpr int kM = 397;

  // random.random(): 53 random bits from two 32-bit draws.
  double random() {
    const std::uint32_t a = next() >> 5;
    const std::uint32_t b = next() >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }

  void init_genrand(std::uint32_t s) {
    mt_[0] = s;
    for (int i = 1; i < kN; ++i)
      mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
    index_ = kN;
  }

  void init_by_array(const std::vector<std::uint32_t>& key) {
    init_genrand(19650218U);
    const int length = static_cast<int>(key.size());
    int i = 1;
    int j = 0;
    for (int k = kN > length ? kN : length; k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] +
               static_cast<std::uint32_t>(j);
      ++i;
      ++j;
      if (i >= kN) {
        mt_[0] = mt_[kN - 1];
        i = 1;
      }
      if (j >= length) j = 0;
    }
    for (int k = kN - 1; k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) -
               static_cast<std::uint32_t>(i);
      ++i;
      if (i >= kN) {
        mt_[0] = mt_[kN - 1];
        i = 1;
      }
    }
    mt_[0] = 0x80000000U;
  }

  std::uint32_t next() {
    if (index_ >= kN) twist();
    std::uint32_t y = mt_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
  }

  void twist() {
    for (int i = 0; i < kN; ++i) {
      const std::uint32_t y = (mt_[i] & 0x80000000U) | (mt_[(i + 1) % kN] & 0x7fffffffU);
      mt_[i] = mt_[(i + kM) % kN] ^ (y >> 1) ^ ((y & 1U) ? 0x9908b0dfU : 0U);
    }
    index_ = 0;
  }

  std::array<std::uint32_t, kN> mt_{};
  int index_ = kN;
};

}  // namespace runctl
