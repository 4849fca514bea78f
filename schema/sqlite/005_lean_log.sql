-- A leaner orchestration log (docs/performance.md, "Bytes per transition").
--
-- Every transition of a policy signs with one of a few lists of some twenty names; each distinct
-- list is now stored once, in `signature`, and a log row refers to its two lists by id. The
-- proposal's state_details keep only the keys that differ from their defaults, and a plain
-- ACCEPT's details (no reason, no delay) are NULL: RunRepository::load_log puts both back, so
-- the log reads as before. State rows store their state_details the same way. Rows written before this migration keep their full texts, which read the
-- same way.
--
-- The task-run state cache gains an insertion order, so that of two entries created under one
-- key at the same time the later insert wins, as in Prefect.

CREATE TABLE signature (
  id    INTEGER PRIMARY KEY,
  names TEXT NOT NULL UNIQUE  -- JSON array of entry names, in signing order
);
INSERT OR IGNORE INTO signature (names) SELECT rule_signature FROM orchestration_log ORDER BY id;
INSERT OR IGNORE INTO signature (names)
  SELECT finalization_signature FROM orchestration_log ORDER BY id;

CREATE TABLE orchestration_log_005 (
  id                        INTEGER PRIMARY KEY,
  run_id                    TEXT NOT NULL,
  run_kind                  TEXT NOT NULL CHECK (run_kind IN ('flow', 'task')),
  at                        TEXT NOT NULL,
  initial_type              TEXT,
  proposed_state            TEXT,  -- JSON: the proposal less what its validated state holds
  status                    TEXT NOT NULL,
  details                   TEXT,  -- JSON; NULL for a plain ACCEPT
  validated_state_id        TEXT,
  rule_signature_id         INTEGER NOT NULL REFERENCES signature (id),
  finalization_signature_id INTEGER NOT NULL REFERENCES signature (id),
  error                     TEXT,
  duration_us               INTEGER NOT NULL,
  policy                    TEXT NOT NULL,
  forced                    INTEGER NOT NULL DEFAULT 0,
  event                     TEXT,  -- prefect.flow-run.<state name>, or NULL
  event_occurred            TEXT,
  event_resource            TEXT,  -- JSON object
  event_related             TEXT,  -- JSON array
  event_payload             TEXT,  -- JSON object
  event_follows             TEXT
);
INSERT INTO orchestration_log_005
  SELECT l.id, l.run_id, l.run_kind, l.at, l.initial_type, l.proposed_state, l.status, l.details,
         l.validated_state_id, r.id, f.id, l.error, l.duration_us, l.policy, l.forced, l.event,
         l.event_occurred, l.event_resource, l.event_related, l.event_payload, l.event_follows
  FROM orchestration_log AS l
  JOIN signature AS r ON r.names = l.rule_signature
  JOIN signature AS f ON f.names = l.finalization_signature;
DROP TABLE orchestration_log;
ALTER TABLE orchestration_log_005 RENAME TO orchestration_log;
CREATE INDEX ix_orchestration_log__run_id ON orchestration_log (run_id, id);

CREATE TABLE task_run_state_cache_005 (
  seq               INTEGER PRIMARY KEY,  -- insertion order: the later of two equal `created` wins
  id                TEXT NOT NULL UNIQUE,
  created           TEXT NOT NULL,
  cache_key         TEXT NOT NULL,
  cache_expiration  TEXT,
  task_run_state_id TEXT NOT NULL
);
INSERT INTO task_run_state_cache_005 (id, created, cache_key, cache_expiration, task_run_state_id)
  SELECT id, created, cache_key, cache_expiration, task_run_state_id FROM task_run_state_cache
  ORDER BY created, id;
DROP TABLE task_run_state_cache;
ALTER TABLE task_run_state_cache_005 RENAME TO task_run_state_cache;
CREATE INDEX ix_task_run_state_cache__cache_key_created
  ON task_run_state_cache (cache_key, created DESC, seq DESC);
