-- Runs, their states, result artifacts and the orchestration log.
-- Names follow Prefect's tables (spec §1.5, §2). Times are ISO 8601 UTC text with six fractional
-- digits ("2026-01-01T12:00:00.000000+00:00"), so text order is time order and equality is exact.
-- JSON columns hold JSON text.

CREATE TABLE flow_run (
  id                        TEXT PRIMARY KEY,
  created                   TEXT NOT NULL,
  updated                   TEXT NOT NULL,
  name                      TEXT NOT NULL,
  state_id                  TEXT,
  state_type                TEXT,
  state_name                TEXT,
  state_timestamp           TEXT,
  run_count                 INTEGER NOT NULL DEFAULT 0,
  expected_start_time       TEXT,
  next_scheduled_start_time TEXT,
  start_time                TEXT,
  end_time                  TEXT,
  total_run_time_us         INTEGER NOT NULL DEFAULT 0,
  empirical_policy          TEXT NOT NULL DEFAULT '{}',
  tags                      TEXT NOT NULL DEFAULT '[]',
  flow_id                   TEXT,
  deployment_id             TEXT,
  parent_task_run_id        TEXT,
  infrastructure_pid        TEXT,
  work_queue_id             TEXT
) WITHOUT ROWID;

CREATE TABLE task_run (
  id                        TEXT PRIMARY KEY,
  created                   TEXT NOT NULL,
  updated                   TEXT NOT NULL,
  name                      TEXT NOT NULL,
  state_id                  TEXT,
  state_type                TEXT,
  state_name                TEXT,
  state_timestamp           TEXT,
  run_count                 INTEGER NOT NULL DEFAULT 0,
  expected_start_time       TEXT,
  next_scheduled_start_time TEXT,
  start_time                TEXT,
  end_time                  TEXT,
  total_run_time_us         INTEGER NOT NULL DEFAULT 0,
  empirical_policy          TEXT NOT NULL DEFAULT '{}',
  tags                      TEXT NOT NULL DEFAULT '[]',
  flow_run_id               TEXT REFERENCES flow_run (id) ON DELETE CASCADE,
  flow_run_run_count        INTEGER NOT NULL DEFAULT 0,
  task_key                  TEXT,
  dynamic_key               TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX ix_task_run__flow_run_id ON task_run (flow_run_id);

CREATE TABLE artifact (
  id          TEXT PRIMARY KEY,
  created     TEXT NOT NULL,
  key         TEXT,
  type        TEXT,
  description TEXT,
  data        TEXT,
  flow_run_id TEXT,
  task_run_id TEXT
) WITHOUT ROWID;

-- A state row reuses the validated State's id and timestamp (spec §3.7).
CREATE TABLE flow_run_state (
  seq                INTEGER PRIMARY KEY,  -- insertion order, for history
  id                 TEXT NOT NULL UNIQUE,
  created            TEXT NOT NULL,
  flow_run_id        TEXT NOT NULL REFERENCES flow_run (id) ON DELETE CASCADE,
  type               TEXT NOT NULL,
  name               TEXT NOT NULL,
  message            TEXT,
  timestamp          TEXT NOT NULL,
  state_details      TEXT NOT NULL,
  data               TEXT,  -- legacy column: never written, read as a fallback (spec §1.5)
  result_artifact_id TEXT REFERENCES artifact (id) ON DELETE SET NULL
);

CREATE UNIQUE INDEX uq_flow_run_state__flow_run_id_timestamp ON flow_run_state (flow_run_id, timestamp);

CREATE TABLE task_run_state (
  seq                INTEGER PRIMARY KEY,
  id                 TEXT NOT NULL UNIQUE,
  created            TEXT NOT NULL,
  task_run_id        TEXT NOT NULL REFERENCES task_run (id) ON DELETE CASCADE,
  type               TEXT NOT NULL,
  name               TEXT NOT NULL,
  message            TEXT,
  timestamp          TEXT NOT NULL,
  state_details      TEXT NOT NULL,
  data               TEXT,
  result_artifact_id TEXT REFERENCES artifact (id) ON DELETE SET NULL
);

CREATE UNIQUE INDEX uq_task_run_state__task_run_id_timestamp ON task_run_state (task_run_id, timestamp);

-- One row per set-state attempt, whatever its outcome.
CREATE TABLE orchestration_log (
  id                     INTEGER PRIMARY KEY,
  run_id                 TEXT NOT NULL,
  run_kind               TEXT NOT NULL CHECK (run_kind IN ('flow', 'task')),
  at                     TEXT NOT NULL,
  initial_type           TEXT,
  proposed_state         TEXT,  -- JSON
  status                 TEXT NOT NULL,
  details                TEXT NOT NULL,  -- JSON
  validated_state_id     TEXT,
  rule_signature         TEXT NOT NULL,  -- JSON array
  finalization_signature TEXT NOT NULL,  -- JSON array
  error                  TEXT,
  duration_us            INTEGER NOT NULL,
  policy                 TEXT NOT NULL,
  forced                 INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX ix_orchestration_log__run_id ON orchestration_log (run_id, id);
