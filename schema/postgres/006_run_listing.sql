-- Listing runs (`flow-run list`, `task-run list`): by current state type, oldest current state
-- first, so that "which runs are stuck in RUNNING" reads only the runs it prints. NULLS FIRST
-- as SQLite orders them, so both backends list in one order.
CREATE INDEX ix_flow_run__state_type_state_timestamp
  ON flow_run (state_type, state_timestamp NULLS FIRST, id);
CREATE INDEX ix_task_run__state_type_state_timestamp
  ON task_run (state_type, state_timestamp NULLS FIRST, id);
