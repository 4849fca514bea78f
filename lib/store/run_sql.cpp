#include "store/run_sql.hpp"

namespace runctl {
namespace {

constexpr RunTables kTables[2] = {
    {"flow_run", "flow_run_state", "flow_run_id"},
    {"task_run", "task_run_state", "task_run_id"},
};

constexpr const char* kCommonColumns[] = {
    "id",
    "created",
    "updated",
    "name",
    "state_id",
    "state_type",
    "state_name",
    "state_timestamp",
    "run_count",
    "expected_start_time",
    "next_scheduled_start_time",
    "start_time",
    "end_time",
    "total_run_time_us",
    "empirical_policy",
    "tags",
};
constexpr const char* kFlowColumns[] = {"flow_id", "deployment_id", "parent_task_run_id",
                                        "infrastructure_pid", "work_queue_id"};
constexpr const char* kTaskColumns[] = {"flow_run_id", "flow_run_run_count", "task_key",
                                        "dynamic_key"};

// The write order: id, then what a transition changes (update_run's SET list), then what only
// insert_run writes. A column left out of an UPDATE's SET list leaves its indexes untouched.
constexpr const char* kChangedColumns[] = {
    "updated",         "state_id",  "state_type",          "state_name",
    "state_timestamp", "run_count", "expected_start_time", "next_scheduled_start_time",
    "start_time",      "end_time",  "total_run_time_us",   "empirical_policy",
};
constexpr const char* kTaskChangedColumns[] = {"flow_run_run_count"};
constexpr const char* kFixedColumns[] = {"created", "name", "tags"};
constexpr const char* kFlowFixedColumns[] = {"flow_id", "deployment_id", "parent_task_run_id",
                                             "infrastructure_pid", "work_queue_id"};
constexpr const char* kTaskFixedColumns[] = {"flow_run_id", "task_key", "dynamic_key"};

template <std::size_t N>
void append(std::vector<std::string>& cols, const char* const (&names)[N]) {
  cols.insert(cols.end(), std::begin(names), std::end(names));
}

std::vector<std::string> columns_of(RunKind kind) {
  std::vector<std::string> cols;
  append(cols, kCommonColumns);
  if (kind == RunKind::kFlow)
    append(cols, kFlowColumns);
  else
    append(cols, kTaskColumns);
  return cols;
}

std::vector<std::string> write_columns_of(RunKind kind) {
  std::vector<std::string> cols{"id"};
  append(cols, kChangedColumns);
  if (kind == RunKind::kTask) append(cols, kTaskChangedColumns);
  append(cols, kFixedColumns);
  if (kind == RunKind::kFlow)
    append(cols, kFlowFixedColumns);
  else
    append(cols, kTaskFixedColumns);
  return cols;
}

const std::vector<std::string>& run_write_columns(RunKind kind) {
  static const std::vector<std::string> columns[2] = {write_columns_of(RunKind::kFlow),
                                                      write_columns_of(RunKind::kTask)};
  return columns[kind_index(kind)];
}

}  // namespace

const RunTables& run_tables(RunKind kind) {
  return kTables[kind_index(kind)];
}

const std::vector<std::string>& run_columns(RunKind kind) {
  static const std::vector<std::string> columns[2] = {columns_of(RunKind::kFlow),
                                                      columns_of(RunKind::kTask)};
  return columns[kind_index(kind)];
}

std::string join_sql(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out.append(i ? separator : "").append(parts[i]);
  return out;
}

std::string select_run_sql(RunKind kind, Placeholder placeholder) {
  return "SELECT " + join_sql(run_columns(kind), ", ") + " FROM " + run_tables(kind).run_table +
         " WHERE id = " + placeholder(1);
}

int changed_run_column_count(RunKind kind) {
  return static_cast<int>(std::size(kChangedColumns)) +
         (kind == RunKind::kTask ? static_cast<int>(std::size(kTaskChangedColumns)) : 0);
}

std::string insert_run_sql(RunKind kind, Placeholder placeholder) {
  const std::vector<std::string>& cols = run_write_columns(kind);
  std::vector<std::string> params;
  for (std::size_t i = 1; i <= cols.size(); ++i) params.push_back(placeholder(static_cast<int>(i)));
  return std::string("INSERT INTO ") + run_tables(kind).run_table + " (" + join_sql(cols, ", ") +
         ") VALUES (" + join_sql(params, ", ") + ")";
}

std::string update_run_sql(RunKind kind, Placeholder placeholder, RunColumns columns) {
  const std::vector<std::string>& cols = run_write_columns(kind);
  const int last = columns == RunColumns::kAll ? static_cast<int>(cols.size()) - 1
                                               : changed_run_column_count(kind);
  std::vector<std::string> sets;
  for (int i = 1; i <= last; ++i)
    sets.push_back(cols[static_cast<std::size_t>(i)] + " = " + placeholder(i + 1));
  return std::string("UPDATE ") + run_tables(kind).run_table + " SET " + join_sql(sets, ", ") +
         " WHERE id = " + placeholder(1);
}

std::string insert_state_sql(RunKind kind, Placeholder placeholder) {
  const RunTables& t = run_tables(kind);
  std::vector<std::string> params;
  for (int i = 1; i <= 9; ++i) params.push_back(placeholder(i));
  return std::string("INSERT INTO ") + t.state_table + " (id, created, " + t.state_run_column +
         ", type, name, message, timestamp, state_details, result_artifact_id) VALUES (" +
         join_sql(params, ", ") + ")";
}

const char* const kStateColumnsSql =
    "s.id, s.type, s.name, s.message, s.timestamp, s.state_details, s.data, a.id, a.data";

std::string state_with_artifact_sql(RunKind kind) {
  return std::string(run_tables(kind).state_table) +
         " AS s LEFT JOIN artifact AS a ON a.id = s.result_artifact_id";
}

std::string latest_state_timestamp_sql(RunKind kind, const std::string& run_id) {
  const RunTables& t = run_tables(kind);
  return std::string(", (SELECT max(m.timestamp) FROM ") + t.state_table + " AS m WHERE m." +
         t.state_run_column + " = " + run_id + ")";
}

}  // namespace runctl
