// Prefect's server settings the rules read, from Prefect's environment variables:
// PREFECT_SERVER_TASKS_TAG_CONCURRENCY_SLOT_WAIT_SECONDS,
// PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS,
// PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION (30..3600),
// PREFECT_SERVER_TASKS_MAX_CACHE_KEY_LENGTH,
// PREFECT_SERVER_TASKS_SCHEDULING_MAX_SCHEDULED_QUEUE_SIZE / _MAX_RETRY_QUEUE_SIZE, and the
// legacy names PREFECT_TASK_RUN_TAG_CONCURRENCY_SLOT_WAIT_SECONDS and
// PREFECT_DEPLOYMENT_CONCURRENCY_SLOT_WAIT_SECONDS.
#pragma once
#include "engine/services.hpp"

namespace runctl {

// Unset variables keep the defaults; a value Prefect would refuse throws Error(kUsage) naming the
// variable.
void read_settings_from_environment(Settings& settings);

}  // namespace runctl
