// The SQL text of the run and state tables, written once for both backends: the table and
// column names and the statements they share, with each backend's placeholder style passed in
// (?N for SQLite, $N for PostgreSQL). Only table and column names are spliced in; every value
// is a bound parameter. A backend adds what only it has (ON CONFLICT, FOR UPDATE, ...).
#pragma once
#include <string>
#include <vector>

#include "engine/run.hpp"
#include "store/repositories.hpp"

namespace runctl {

using Placeholder = std::string (*)(int n);

struct RunTables {
  const char* run_table;         // flow_run, task_run
  const char* state_table;       // flow_run_state, task_run_state
  const char* state_run_column;  // flow_run_id, task_run_id
};
const RunTables& run_tables(RunKind kind);

// 0 for flow runs, 1 for task runs: the index of a per-kind statement array.
inline int kind_index(RunKind kind) {
  return kind == RunKind::kFlow ? 0 : 1;
}

// The run columns in the order both backends read them (select_run_sql).
const std::vector<std::string>& run_columns(RunKind kind);
// The number of columns a transition can change (update_run's SET list); the backends bind
// them, after the id, in this order:
//   updated, state_id, state_type, state_name, state_timestamp, run_count, expected_start_time,
//   next_scheduled_start_time, start_time, end_time, total_run_time_us, empirical_policy,
//   and for a task run flow_run_run_count;
// an INSERT then binds what never changes after it:
//   created, name, tags, then flow_id, deployment_id, parent_task_run_id, infrastructure_pid,
//   work_queue_id (flow run) or flow_run_id, task_key, dynamic_key (task run).
int changed_run_column_count(RunKind kind);

std::string join_sql(const std::vector<std::string>& parts, const std::string& separator);

// SELECT every run column WHERE id = placeholder 1.
std::string select_run_sql(RunKind kind, Placeholder placeholder);
// INSERT of every run column, in the write order above, placeholder N the Nth.
std::string insert_run_sql(RunKind kind, Placeholder placeholder);
// UPDATE WHERE id = placeholder 1 of the changed columns (placeholders 2 to
// changed_run_column_count + 1), so that identity columns and their indexes are not rewritten;
// or of every column, in the write order.
std::string update_run_sql(RunKind kind, Placeholder placeholder, RunColumns columns);
// INSERT of a state row: id, created, run id, type, name, message, timestamp, state_details,
// result_artifact_id, placeholders 1 to 9.
std::string insert_state_sql(RunKind kind, Placeholder placeholder);

// The state columns the backends' state readers expect, in order, from a state table aliased s
// joined to its artifact aliased a.
extern const char* const kStateColumnsSql;
// "<state table> AS s LEFT JOIN artifact AS a ON a.id = s.result_artifact_id".
std::string state_with_artifact_sql(RunKind kind);
// ", (SELECT max(m.timestamp) FROM <state table> AS m WHERE m.<run column> = <run_id>)": a flow
// run's latest state timestamp, read with its current state (a later proposal is free, which
// spares EnsureFlowRunStateTimestampIsUnique its look-up).
std::string latest_state_timestamp_sql(RunKind kind, const std::string& run_id);

}  // namespace runctl
