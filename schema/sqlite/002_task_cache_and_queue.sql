-- The task-run state cache (CacheInsertion writes it, CacheRetrieval reads it) and the background
-- task queue that stands in for Prefect's in-memory queue (EnqueueScheduledTasks).

CREATE TABLE task_run_state_cache (
  id                TEXT PRIMARY KEY,
  created           TEXT NOT NULL,
  cache_key         TEXT NOT NULL,
  cache_expiration  TEXT,
  task_run_state_id TEXT NOT NULL
) WITHOUT ROWID;

-- CacheRetrieval takes the newest entry for a key: one index range scan, newest first.
CREATE INDEX ix_task_run_state_cache__cache_key_created ON task_run_state_cache (cache_key, created DESC);

CREATE TABLE task_queue (
  seq         INTEGER PRIMARY KEY,  -- FIFO order
  id          TEXT NOT NULL UNIQUE,
  task_key    TEXT NOT NULL,
  queue       TEXT NOT NULL CHECK (queue IN ('scheduled', 'retry')),
  task_run_id TEXT NOT NULL,
  enqueued_at TEXT NOT NULL
);

CREATE INDEX ix_task_queue__task_key_queue ON task_queue (task_key, queue, seq);

-- Failed task runs of a flow run (legacy RetryFailedFlows) and the late-runs view read these.
CREATE INDEX ix_task_run__flow_run_id_state_type ON task_run (flow_run_id, state_type);
