-- A transition's writes touch fewer B-tree pages (docs/performance.md).
--
-- State rows are stored in (run, timestamp) order, the order a run's history is read in. A
-- transition reads the run's current state and writes the next one: both now sit on the same
-- leaf page, found with one descent, where the rowid table needed a descent of the id index, one
-- of the table and one more of the (run, timestamp) index, each on a different page. The unique
-- (run, timestamp) rule that Prefect's index enforces is now the primary key; seq (insertion
-- order) goes, as timestamps within a run are unique and history is ordered by them.
--
-- Events lose the unique index on id: an event's id is its state's, unique already, and nothing
-- looks an event up by id.

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

CREATE TABLE events_004 (
  seq         INTEGER PRIMARY KEY,  -- write order, what `events --follow` resumes from
  id          TEXT NOT NULL,        -- the validated state's id
  occurred    TEXT NOT NULL,
  event       TEXT NOT NULL,
  resource_id TEXT NOT NULL,  -- resource["prefect.resource.id"], for `events --run`
  resource    TEXT NOT NULL,  -- JSON object
  related     TEXT NOT NULL,  -- JSON array
  payload     TEXT NOT NULL,  -- JSON object
  follows     TEXT
);

INSERT INTO events_004 (seq, id, occurred, event, resource_id, resource, related, payload, follows)
  SELECT seq, id, occurred, event, resource_id, resource, related, payload, follows FROM events;
DROP TABLE events;
ALTER TABLE events_004 RENAME TO events;
CREATE INDEX ix_events__resource_id ON events (resource_id, seq);
