// The random source rules draw from (retry jitter, concurrency waits): injected and seedable so
// tests are exact.
#pragma once
#include <cstdint>
#include <random>

namespace runctl {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Uniform in [low, high], as Python's random.uniform.
  virtual double uniform(double low, double high) = 0;
};

class SeededRandom final : public RandomSource {
 public:
  SeededRandom() : rng_(std::random_device{}()) {}
  explicit SeededRandom(std::uint64_t seed) : rng_(seed) {}
  double uniform(double low, double high) override {
    return low + (high - low) * std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace runctl
