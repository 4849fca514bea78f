// The one error type runctl raises for bad input and environment failures. Each carries a kind;
// cli/main.cpp alone turns kinds into exit codes.
#pragma once
#include <stdexcept>
#include <string>

namespace runctl {

enum class ErrorKind {
  kUnexpectedState,  // 4: the run is not in the state the caller expected (--expect-state)
  kUsage,            // 64: bad command line
  kBadData,          // 65: malformed JSON, UUID, state, not a runctl database, newer schema
  kNotFound,         // 66: run or database not found
  kUnavailable,      // 69: a database server that cannot be reached
  kHook,             // 70: a hook raised (transaction rolled back)
  kIo,               // 74: I/O error
  kBusy,             // 75: database busy past the timeout
  kReadOnly,         // 77: database read-only or not permitted
  kBadPolicy,        // 78: bad policy file
};

// What a caller may do about an error beyond its kind: the store marks the failures a caller
// handles itself, so that nobody matches on message text.
enum class ErrorReason {
  kNone,
  kRetryable,            // a lost race (deadlock, serialization failure): run it all again
  kStateTimestampTaken,  // the run already has a state at that timestamp
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message, ErrorReason reason = ErrorReason::kNone)
      : std::runtime_error(message), kind_(kind), reason_(reason) {}
  ErrorKind kind() const { return kind_; }
  ErrorReason reason() const { return reason_; }

 private:
  ErrorKind kind_;
  ErrorReason reason_;
};

}  // namespace runctl
