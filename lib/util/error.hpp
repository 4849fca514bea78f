// The one error type runctl raises for bad input and environment failures. Each carries a kind;
// cli/main.cpp alone turns kinds into exit codes.
#pragma once
#include <stdexcept>
#include <string>

namespace runctl {

enum class ErrorKind {
  kUsage,      // 64: bad command line
  kBadData,    // 65: malformed JSON, UUID, state, not a runctl database, newer schema
  kNotFound,   // 66: run or database not found
  kHook,       // 70: a hook raised (transaction rolled back)
  kIo,         // 74: I/O error
  kBusy,       // 75: database busy past the timeout
  kReadOnly,   // 77: database read-only or not permitted
  kBadPolicy,  // 78: bad policy file
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace runctl
