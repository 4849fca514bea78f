-- Listing runs (`flow-run list`, `task-run list`): by current state type, oldest current state
-- first, so that "which runs are stuck in RUNNING" reads only the runs it prints. A task run's
-- listing by flow run uses ix_task_run__flow_run_id_state_type.
CREATE INDEX ix_flow_run__state_type_state_timestamp ON flow_run (state_type, state_timestamp, id);
CREATE INDEX ix_task_run__state_type_state_timestamp ON task_run (state_type, state_timestamp, id);
