// Rule and finalization signatures (OrchestrationContext.rule_signature and
// finalization_signature) as names interned once per process.
#pragma once
#include <algorithm>
#include <compare>
#include <cstddef>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

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

  // A signature read back (a log row), its names interned.
  explicit Signature(const std::vector<std::string>& names) {
    reserve(names.size());
    for (const std::string& name : names) push_back(intern_name(name));
  }

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

}  // namespace runctl
