#include "cli/exit_codes.hpp"

namespace runctl::cli {

std::string exit_codes_help() {
  return "\nExit codes:\n"
         "  0 ACCEPT   1 REJECT   2 WAIT   3 ABORT   (set-state: the orchestration status)\n"
         "  64 usage error                 65 bad data (JSON, UUID, state, database format)\n"
         "  66 run or database not found   70 a hook raised (transaction rolled back)\n"
         "  74 I/O error                   75 database busy past --busy-timeout\n"
         "  77 database read-only          78 bad policy file\n";
}

}  // namespace runctl::cli
