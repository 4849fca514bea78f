// What a store call throws, for tests that expect a runctl::Error of a given kind or reason.
#pragma once
#include <optional>

#include "util/error.hpp"

namespace runctl {

// The runctl::Error that f throws, if any (any other exception escapes).
template <typename F>
std::optional<Error> error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

}  // namespace runctl
