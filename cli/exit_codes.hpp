// runctl's exit codes: the orchestration status, else a sysexits.h code for what went wrong.
#pragma once
#include <string>

#include "util/error.hpp"

namespace runctl::cli::exit_code {

constexpr int kAccept = 0;
constexpr int kReject = 1;
constexpr int kWait = 2;
constexpr int kAbort = 3;
constexpr int kUnexpectedState = 4;  // set-state --expect-state: the run is in another state
constexpr int kUsage = 64;           // EX_USAGE: bad command line
constexpr int kBadData =
    65;  // EX_DATAERR: malformed JSON/UUID/state, not a runctl db, newer schema
constexpr int kNotFound = 66;     // EX_NOINPUT: run or database not found
constexpr int kUnavailable = 69;  // EX_UNAVAILABLE: database server unreachable
constexpr int kHookError = 70;    // EX_SOFTWARE: a hook raised; the transaction was rolled back
constexpr int kIoError = 74;      // EX_IOERR
constexpr int kBusy = 75;         // EX_TEMPFAIL: database busy past the timeout
constexpr int kReadOnly = 77;     // EX_NOPERM: database read-only or not permitted
constexpr int kBadPolicy = 78;    // EX_CONFIG: bad policy file

}  // namespace runctl::cli::exit_code

namespace runctl::cli {

// The table printed at the foot of --help.
std::string exit_codes_help();

// The exit code of a command that failed with an Error of this kind (apply: of one line).
int exit_code_for(ErrorKind kind);

}  // namespace runctl::cli
