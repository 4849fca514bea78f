// Flow runs and task runs: the columns of Prefect's FlowRun and TaskRun (server ORM models) that
// orchestration reads and writes.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/state.hpp"

namespace runctl {

enum class RunKind { kFlow, kTask };

inline std::string_view kind_name(RunKind k) {
  return k == RunKind::kFlow ? "flow" : "task";
}

// One plain struct for both kinds, as the two tables share most columns; the kind-specific
// fields are simply unused for the other kind.
struct Run {
  RunKind kind = RunKind::kFlow;
  std::string id;
  std::string name;
  std::optional<std::string> state_id;
  std::optional<StateType> state_type;
  std::optional<std::string> state_name;
  std::optional<Timestamp> state_timestamp;
  int run_count = 0;
  std::optional<Timestamp> expected_start_time;
  std::optional<Timestamp> next_scheduled_start_time;
  std::optional<Timestamp> start_time;
  std::optional<Timestamp> end_time;
  std::int64_t total_run_time_us = 0;  // an interval, in microseconds
  Json empirical_policy = Json::object();
  std::vector<std::string> tags;
  Timestamp created = 0;

  // Flow runs.
  std::optional<std::string> flow_id;
  std::optional<std::string> deployment_id;
  std::optional<std::string> parent_task_run_id;
  std::optional<std::string> infrastructure_pid;
  std::optional<std::string> work_queue_id;

  // Task runs.
  std::optional<std::string> flow_run_id;
  int flow_run_run_count = 0;
  std::optional<std::string> task_key;
  std::string dynamic_key;
};

}  // namespace runctl
