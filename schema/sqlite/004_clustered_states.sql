-- A transition's writes touch fewer B-tree pages (docs/performance.md).
--
-- State rows are stored in (run, timestamp) order, the order a run's history is read in. A
-- transition reads the run's current state and writes the next one: both now sit on the same
-- leaf page, found with one descent, where the rowid table needed a descent of the id index, one
-- of the table and one more of the (run, timestamp) index, each on a different page. The unique
-- (run, timestamp) rule that Prefect's index enforces is now the primary key; seq (insertion
-- order) goes, as timestamps within a run are unique and history is ordered by them.
--

CREATE TABLE flow_run_state_004 (
  id                 TEXT NOT NULL UNIQUE,
  created            TEXT NOT NULL,
  flow_run_id        TEXT NOT NULL REFERENCES flow_run (id) ON DELETE CASCADE,
  type               TEXT NOT NULL,
  name               TEXT NOT NULL,
  message            TEXT,
  timestamp          TEXT NOT NULL,
  state_details      TEXT NOT NULL,
  data               TEXT,  -- legacy column: never written, read as a fallback (spec §1.5)
  result_artifact_id TEXT REFERENCES artifact (id) ON DELETE SET NULL,
  PRIMARY KEY (flow_run_id, timestamp)
) WITHOUT ROWID;

INSERT INTO flow_run_state_004 (id, created, flow_run_id, type, name, message, timestamp,
                                state_details, data, result_artifact_id)
  SELECT id, created, flow_run_id, type, name, message, timestamp, state_details, data,
         result_artifact_id
  FROM flow_run_state;
DROP TABLE flow_run_state;
ALTER TABLE flow_run_state_004 RENAME TO flow_run_state;

CREATE TABLE task_run_state_004 (
  id                 TEXT NOT NULL UNIQUE,
  created            TEXT NOT NULL,
  task_run_id        TEXT NOT NULL REFERENCES task_run (id) ON DELETE CASCADE,
  type               TEXT NOT NULL,
  name               TEXT NOT NULL,
  message            TEXT,
  timestamp          TEXT NOT NULL,
  state_details      TEXT NOT NULL,
  data               TEXT,
  result_artifact_id TEXT REFERENCES artifact (id) ON DELETE SET NULL,
  PRIMARY KEY (task_run_id, timestamp)
) WITHOUT ROWID;

INSERT INTO task_run_state_004 (id, created, task_run_id, type, name, message, timestamp,
                                state_details, data, result_artifact_id)
  SELECT id, created, task_run_id, type, name, message, timestamp, state_details, data,
         result_artifact_id
  FROM task_run_state;
DROP TABLE task_run_state;
ALTER TABLE task_run_state_004 RENAME TO task_run_state;

-- Each event moves into the log row of the transition that emitted it (the row whose validated
-- state it announces): no table and index of its own to write on every flow-run transition. The
-- event's id is the row's validated_state_id, its resource the flow run of run_id, and its seq
-- (what `events --follow` resumes from) the row's id, which is write order as seq was.
ALTER TABLE orchestration_log ADD COLUMN event TEXT;  -- prefect.flow-run.<state name>, or NULL
ALTER TABLE orchestration_log ADD COLUMN event_occurred TEXT;
ALTER TABLE orchestration_log ADD COLUMN event_resource TEXT;  -- JSON object
ALTER TABLE orchestration_log ADD COLUMN event_related TEXT;   -- JSON array
ALTER TABLE orchestration_log ADD COLUMN event_payload TEXT;   -- JSON object
ALTER TABLE orchestration_log ADD COLUMN event_follows TEXT;

CREATE INDEX ix_orchestration_log__migrating_004 ON orchestration_log (validated_state_id, id);
UPDATE orchestration_log
  SET event = e.event, event_occurred = e.occurred, event_resource = e.resource,
      event_related = e.related, event_payload = e.payload, event_follows = e.follows
  FROM events AS e
  WHERE orchestration_log.id =
        (SELECT min(l.id) FROM orchestration_log AS l WHERE l.validated_state_id = e.id);
DROP INDEX ix_orchestration_log__migrating_004;
DROP TABLE events;
