// Random draws and UUIDs that a batch group can take again. A group runs without a savepoint per
// transition; when one of its transitions fails, the group is rolled back and run again with
// savepoints (batch.cpp). Rewinding these sources makes that second run draw what the first
// drew, so its results are the ones the first run would have had.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "util/random.hpp"
#include "util/uuid.hpp"

namespace runctl {

template <typename Value>
class DrawLog {
 public:
  // Forgets what was drawn: a new group starts.
  void clear() {
    drawn_.clear();
    next_ = 0;
  }
  // The next draw repeats the first one of the group, and so on, then draws anew.
  void rewind() { next_ = 0; }

  template <typename Draw>
  Value take(Draw draw) {
    if (next_ < drawn_.size()) return drawn_[next_++];
    drawn_.push_back(draw());
    ++next_;
    return drawn_.back();
  }

 private:
  std::vector<Value> drawn_;
  std::size_t next_ = 0;
};

class ReplayableRandom final : public RandomSource {
 public:
  explicit ReplayableRandom(RandomSource& source) : source_(source) {}
  double uniform(double low, double high) override {
    // A replay asks in the same order with the same bounds: the value drawn is what it gets.
    return log_.take([&] { return source_.uniform(low, high); });
  }
  DrawLog<double>& log() { return log_; }

 private:
  RandomSource& source_;
  DrawLog<double> log_;
};

class ReplayableUuids final : public UuidGenerator {
 public:
  explicit ReplayableUuids(UuidGenerator& source) : source_(source) {}
  std::string next() override {
    return log_.take([this] { return source_.next(); });
  }
  DrawLog<std::string>& log() { return log_; }

 private:
  UuidGenerator& source_;
  DrawLog<std::string> log_;
};

}  // namespace runctl
