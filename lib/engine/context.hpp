// The orchestration context threaded through every rule and transform (spec §3.1).
#pragma once
#include <algorithm>
#include <compare>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/response.hpp"
#include "engine/run.hpp"
#include "engine/services.hpp"
#include "engine/state.hpp"
#include "engine/trace.hpp"
#include "util/random.hpp"
#include "util/time.hpp"
#include "util/uuid.hpp"

namespace runctl {

// The one copy of a rule or transform name a signature points at: equal names give the same
// pointer, and it lives as long as the process. Names are few (the built-ins, a policy file's),
// so a chain can sign with a pointer instead of copying a string that is usually too long for
// the small-string buffer, and nothing depends on the rule object outliving the context.
const std::string* intern_name(const std::string& name);

// Rule and finalization signatures: the names of the entries that signed, in order.
class Signature {
 public:
  class const_iterator {
   public:
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    using reference = const std::string&;
    using pointer = const std::string*;
    using iterator_category = std::random_access_iterator_tag;
    const_iterator() = default;
    explicit const_iterator(const std::string* const* p) : p_(p) {}
    reference operator*() const { return **p_; }
    pointer operator->() const { return *p_; }
    const_iterator& operator++() {
      ++p_;
      return *this;
    }
    const_iterator operator++(int) { return const_iterator(p_++); }
    const_iterator& operator--() {
      --p_;
      return *this;
    }
    const_iterator operator--(int) { return const_iterator(p_--); }
    const_iterator& operator+=(difference_type n) {
      p_ += n;
      return *this;
    }
    const_iterator& operator-=(difference_type n) {
      p_ -= n;
      return *this;
    }
    friend const_iterator operator+(const_iterator it, difference_type n) { return it += n; }
    friend const_iterator operator+(difference_type n, const_iterator it) { return it += n; }
    friend const_iterator operator-(const_iterator it, difference_type n) { return it -= n; }
    friend difference_type operator-(const_iterator a, const_iterator b) { return a.p_ - b.p_; }
    reference operator[](difference_type n) const { return *p_[n]; }
    auto operator<=>(const const_iterator&) const = default;

   private:
    const std::string* const* p_ = nullptr;
  };

  Signature() = default;
  Signature(const Signature&) = default;
  Signature& operator=(const Signature&) = default;
  // The moved-from signature is left empty, not with a size its storage no longer backs.
  Signature(Signature&& other) noexcept { *this = std::move(other); }
  Signature& operator=(Signature&& other) noexcept {
    std::copy(other.inline_, other.inline_ + std::min(other.size_, kInline), inline_);
    spilled_ = std::move(other.spilled_);
    size_ = std::exchange(other.size_, 0);
    other.spilled_.clear();
    return *this;
  }

  // `name` must be interned (intern_name): the signature keeps the pointer.
  void push_back(const std::string* name) {
    if (size_ < kInline)
      inline_[size_++] = name;
    else
      spill(name);
  }
  void reserve(std::size_t n) {
    if (n > kInline) spilled_.reserve(n);
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::string& operator[](std::size_t i) const { return *data()[i]; }
  const std::string& front() const { return *data()[0]; }
  const std::string& back() const { return *data()[size_ - 1]; }
  const_iterator begin() const { return const_iterator(data()); }
  const_iterator end() const { return const_iterator(data() + size_); }

  // What results and log rows carry.
  std::vector<std::string> to_strings() const { return {begin(), end()}; }
  operator std::vector<std::string>() const { return to_strings(); }

  bool operator==(const std::vector<std::string>& other) const {
    return std::equal(begin(), end(), other.begin(), other.end());
  }
  bool operator==(const Signature& other) const {
    return std::equal(begin(), end(), other.begin(), other.end());
  }

 private:
  // A chain signs with each of its entries at most once per list, and built-in chains have
  // fewer than 32: the names fit in place, with no allocation per transition.
  static constexpr std::size_t kInline = 32;
  const std::string* const* data() const { return size_ > kInline ? spilled_.data() : inline_; }
  [[gnu::noinline]] void spill(const std::string* name) {
    if (spilled_.empty()) spilled_.assign(inline_, inline_ + kInline);
    spilled_.push_back(name);
    ++size_;
  }

  const std::string* inline_[kInline] = {};
  std::vector<const std::string*> spilled_;  // all the names, once there are more than kInline
  std::size_t size_ = 0;
};

struct Context {
  RunKind kind = RunKind::kFlow;
  Run* run = nullptr;  // live: rules mutate it, the store persists it

  StatePtr initial_state;
  StatePtr proposed_state;
  StatePtr validated_state;

  Signature rule_signature;
  Signature finalization_signature;

  Status response_status = Status::kAccept;
  ResponseDetails response_details;

  // Set when a rule's before hook raised: the formatted abort reason. Prefect re-raises the
  // error after the chain has unwound; runctl rolls the transaction back.
  std::optional<std::string> orchestration_error;

  Json parameters = Json::object();
  std::optional<std::string> client_version;

  const Clock* clock = nullptr;
  UuidGenerator* uuids = nullptr;
  RandomSource* random = nullptr;
  Services* services = nullptr;

  // Appended by declarative `record` actions: lets tests and operators see which hooks ran.
  std::vector<std::string> side_effects;

  Trace* trace = nullptr;  // null when tracing is off: recording then costs nothing

  MaybeType initial_type() const { return type_of(initial_state); }
  MaybeType proposed_type() const { return type_of(proposed_state); }
  Timestamp now() const { return clock->now(); }
};

// What a rule's hook receives: copies of the context's states (shallow, spec §3.2) and of its
// parameters. Assigning to them changes nothing; editing a details field inside a copied state
// edits the real one, as in Prefect. The run is the real one.
struct ContextCopy {
  RunKind kind;
  Run& run;
  StatePtr initial_state;
  StatePtr proposed_state;
  StatePtr validated_state;
  Json parameters;
  std::optional<std::string> client_version;
  const Clock& clock;
  RandomSource* random;
  Services* services;

  Timestamp now() const { return clock.now(); }
};

// A rule hook's error, reported without Python's class reprs: the message alone.
class HookError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Prefect's OrchestrationError (a null rejection with no state to keep).
class OrchestrationError : public HookError {
 public:
  using HookError::HookError;
};

}  // namespace runctl
