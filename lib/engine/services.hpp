// What the engine asks of the outside world. The store implements it; tests fake it.
#pragma once
#include "engine/run.hpp"
#include "engine/state.hpp"

namespace runctl {

// Raised by a service for errors Prefect treats as client-retryable (database busy/locked): they
// escape validation instead of becoming an ABORT (spec §3.7).
class RetryableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Services {
 public:
  virtual ~Services() = default;

  // Persists a newly validated state of `run` (validation, spec §3.7). May strip the artifact
  // keys from the state's data in place, as Prefect does. Any error other than RetryableError
  // turns into ABORT "Error validating state: ...".
  virtual void write_state(const Run& run, State& state) = 0;
};

}  // namespace runctl
