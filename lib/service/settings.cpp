#include "service/settings.hpp"

#include <cstdlib>
#include <limits>
#include <string>

#include "util/error.hpp"

namespace runctl {
namespace {

const char* env_value(const char* name, const char* legacy = nullptr) {
  const char* v = std::getenv(name);
  if ((!v || !*v) && legacy) v = std::getenv(legacy);
  return v && *v ? v : nullptr;
}

[[noreturn]] void bad_setting(const char* name, const std::string& value, const char* expected) {
  throw Error(ErrorKind::kUsage,
              std::string(name) + ": expected " + expected + ", got \"" + value + "\"");
}

// A float as pydantic reads one from the environment, within [low, high].
void read_float(double& out, const char* name, const char* legacy, double low, double high,
                const char* expected) {
  const char* text = env_value(name, legacy);
  if (!text) return;
  const std::string value(text);
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    bad_setting(name, value, expected);
  }
  if (used != value.size() || !(v >= low && v <= high)) bad_setting(name, value, expected);
  out = v;
}

void read_size(std::size_t& out, const char* name) {
  const char* text = env_value(name);
  if (!text) return;
  const std::string value(text);
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(value, &used);
  } catch (const std::exception&) {
    bad_setting(name, value, "a whole number");
  }
  if (used != value.size() || v < 0) bad_setting(name, value, "a whole number");
  out = static_cast<std::size_t>(v);
}

}  // namespace

void read_settings_from_environment(Settings& s) {
  constexpr double kUnbounded = std::numeric_limits<double>::max();
  read_float(s.tag_concurrency_slot_wait_seconds,
             "PREFECT_SERVER_TASKS_TAG_CONCURRENCY_SLOT_WAIT_SECONDS",
             "PREFECT_TASK_RUN_TAG_CONCURRENCY_SLOT_WAIT_SECONDS", 0, kUnbounded, "seconds >= 0");
  read_float(s.deployment_concurrency_slot_wait_seconds,
             "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS",
             "PREFECT_DEPLOYMENT_CONCURRENCY_SLOT_WAIT_SECONDS", 0, kUnbounded, "seconds >= 0");
  read_float(s.initial_deployment_lease_duration,
             "PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION", nullptr, 30, 3600,
             "seconds from 30 to 3600");
  read_size(s.max_cache_key_length, "PREFECT_SERVER_TASKS_MAX_CACHE_KEY_LENGTH");
  read_size(s.max_scheduled_queue_size, "PREFECT_SERVER_TASKS_SCHEDULING_MAX_SCHEDULED_QUEUE_SIZE");
  read_size(s.max_retry_queue_size, "PREFECT_SERVER_TASKS_SCHEDULING_MAX_RETRY_QUEUE_SIZE");
}

}  // namespace runctl
