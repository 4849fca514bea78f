-- Concurrency limits (V1 per tag, V2 global), flows and deployments, concurrency leases, and the
-- events InstrumentFlowRunStateTransitions emits (spec §5.7-5.11, 5.18, 5.22, 5.28, 5.I1, §8).
-- Prefect keeps leases and events outside its database transaction; runctl keeps them in this file
-- and writes them in the transition's own transaction, so a rolled-back transition leaks nothing.

-- V1 tag limits. active_slots is a JSON array of task-run ids used as a set.
CREATE TABLE concurrency_limit (
  id                TEXT PRIMARY KEY,
  created           TEXT NOT NULL,
  updated           TEXT NOT NULL,
  tag               TEXT NOT NULL UNIQUE,
  concurrency_limit INTEGER NOT NULL CHECK (concurrency_limit >= 0),
  active_slots      TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;

-- V2 ("global") limits. `updated` is refreshed by every slot change: decay is measured from it.
CREATE TABLE concurrency_limit_v2 (
  id                         TEXT PRIMARY KEY,
  created                    TEXT NOT NULL,
  updated                    TEXT NOT NULL,
  name                       TEXT NOT NULL UNIQUE,
  "limit"                    INTEGER NOT NULL CHECK ("limit" >= 0),
  active                     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  active_slots               INTEGER NOT NULL DEFAULT 0 CHECK (active_slots >= 0),
  denied_slots               INTEGER NOT NULL DEFAULT 0 CHECK (denied_slots >= 0),
  slot_decay_per_second      REAL NOT NULL DEFAULT 0 CHECK (slot_decay_per_second >= 0),
  avg_slot_occupancy_seconds REAL NOT NULL DEFAULT 2.0
) WITHOUT ROWID;

-- Flows exist here only so a deployment has one, as in Prefect (events name it).
CREATE TABLE flow (
  id      TEXT PRIMARY KEY,
  created TEXT NOT NULL,
  name    TEXT NOT NULL UNIQUE,
  tags    TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;

-- A flow run's deployment_id is not a foreign key: Prefect lets it dangle, and
-- SecureFlowConcurrencySlots then aborts with "Deployment not found.".
CREATE TABLE deployment (
  id                   TEXT PRIMARY KEY,
  created              TEXT NOT NULL,
  updated              TEXT NOT NULL,
  name                 TEXT NOT NULL,
  flow_id              TEXT NOT NULL REFERENCES flow (id) ON DELETE CASCADE,
  tags                 TEXT NOT NULL DEFAULT '[]',
  concurrency_limit_id TEXT REFERENCES concurrency_limit_v2 (id) ON DELETE SET NULL,
  concurrency_options  TEXT,  -- JSON {"collision_strategy", "grace_period_seconds"}, or NULL
  UNIQUE (flow_id, name)
) WITHOUT ROWID;

-- Concurrency leases (Prefect's lease storage). slots and holder are Prefect's lease metadata;
-- origin_run_id is runctl's: the run whose transition took the lease, for operators.
CREATE TABLE concurrency_lease (
  id            TEXT PRIMARY KEY,
  created_at    TEXT NOT NULL,
  expiration    TEXT NOT NULL,
  slots         INTEGER NOT NULL,
  holder_type   TEXT CHECK (holder_type IN ('flow_run', 'task_run', 'deployment')),
  holder_id     TEXT,
  origin_run_id TEXT
) WITHOUT ROWID;

CREATE INDEX ix_concurrency_lease__expiration ON concurrency_lease (expiration);

-- The limits a lease holds slots of. No foreign key to the limit: as in Prefect, a lease outlives
-- a deleted limit (releasing it then fails to decrement, and reaping just drops it).
CREATE TABLE concurrency_lease_resource (
  lease_id TEXT NOT NULL REFERENCES concurrency_lease (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  limit_id TEXT NOT NULL,
  PRIMARY KEY (lease_id, position)
) WITHOUT ROWID;

CREATE INDEX ix_concurrency_lease_resource__limit_id ON concurrency_lease_resource (limit_id);

-- Prefect's events, one per accepted or replaced flow-run state. The id is the validated state's.
CREATE TABLE events (
  seq         INTEGER PRIMARY KEY,  -- write order, what `events --follow` resumes from
  id          TEXT NOT NULL UNIQUE,
  occurred    TEXT NOT NULL,
  event       TEXT NOT NULL,
  resource_id TEXT NOT NULL,  -- resource["prefect.resource.id"], for `events --run`
  resource    TEXT NOT NULL,  -- JSON object
  related     TEXT NOT NULL,  -- JSON array
  payload     TEXT NOT NULL,  -- JSON object
  follows     TEXT
);

CREATE INDEX ix_events__resource_id ON events (resource_id, seq);
