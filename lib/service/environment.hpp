// What an orchestration takes from outside, injected so that every run of it is exact: the
// clock, ids, randomness and Prefect's server settings.
#pragma once
#include "engine/services.hpp"  // Settings
#include "util/random.hpp"
#include "util/time.hpp"
#include "util/uuid.hpp"

namespace runctl {

struct Environment {
  const Clock& clock;
  UuidGenerator& uuids;
  RandomSource& random;
  Settings settings{};  // the CLI reads them once (read_settings_from_environment)
};

}  // namespace runctl
