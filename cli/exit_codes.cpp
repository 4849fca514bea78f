#include "cli/exit_codes.hpp"

namespace runctl::cli {

std::string exit_codes_help() {
  return "\nExit codes:\n"
         "  0 ACCEPT   1 REJECT   2 WAIT   3 ABORT   (set-state: the orchestration status)\n"
         "  4 not in the --expect-state state (nothing written)\n"
         "  64 usage error                 65 bad data (JSON, UUID, state, database format)\n"
         "  66 run or database not found   69 database server unreachable\n"
         "  70 a hook raised (transaction rolled back)\n"
         "  74 I/O error                   75 database busy past --busy-timeout\n"
         "  77 database read-only          78 bad policy file\n";
}

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUnexpectedState:
      return exit_code::kUnexpectedState;
    case ErrorKind::kUsage:
      return exit_code::kUsage;
    case ErrorKind::kBadData:
      return exit_code::kBadData;
    case ErrorKind::kNotFound:
      return exit_code::kNotFound;
    case ErrorKind::kUnavailable:
      return exit_code::kUnavailable;
    case ErrorKind::kHook:
      return exit_code::kHookError;
    case ErrorKind::kIo:
      return exit_code::kIoError;
    case ErrorKind::kBusy:
      return exit_code::kBusy;
    case ErrorKind::kReadOnly:
      return exit_code::kReadOnly;
    case ErrorKind::kBadPolicy:
      return exit_code::kBadPolicy;
  }
  return exit_code::kIoError;
}

}  // namespace runctl::cli
