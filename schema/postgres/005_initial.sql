-- runctl's PostgreSQL schema: the shape schema/sqlite/ reaches at version 5, created at once.
-- PostgreSQL's history starts here; later migrations follow SQLite's numbering.
--
-- Tables are created in the connection's current schema (the first existing one on its
-- search_path), so one server database can hold several runctl databases side by side
-- (postgresql://host/db?options=-csearch_path%3Dteam_a).
--
-- Types, chosen so that every command prints exactly what it prints on SQLite:
-- - Times are TEXT in runctl's ISO 8601 form ("2026-01-01T12:00:00.000000+00:00"), written and
--   read byte for byte as on SQLite; text order is time order.
-- - JSON is TEXT: its key order and number spelling are part of the output.
-- - Every text column that is ordered, compared or unique uses COLLATE "C" (byte order, as
--   SQLite's BINARY), whatever the database's locale.
-- - Counters and microsecond intervals are BIGINT (SQLite's INTEGER), rates DOUBLE PRECISION.

CREATE TABLE runctl_schema (
  version integer NOT NULL
);

-- Runs and their states (SQLite 001, 004).

CREATE TABLE flow_run (
  id                        text COLLATE "C" PRIMARY KEY,
  created                   text COLLATE "C" NOT NULL,
  updated                   text COLLATE "C" NOT NULL,
  name                      text NOT NULL,
  state_id                  text COLLATE "C",
  state_type                text COLLATE "C",
  state_name                text,
  state_timestamp           text COLLATE "C",
  run_count                 bigint NOT NULL DEFAULT 0,
  expected_start_time       text COLLATE "C",
  next_scheduled_start_time text COLLATE "C",
  start_time                text COLLATE "C",
  end_time                  text COLLATE "C",
  total_run_time_us         bigint NOT NULL DEFAULT 0,
  empirical_policy          text NOT NULL DEFAULT '{}',
  tags                      text NOT NULL DEFAULT '[]',
  flow_id                   text COLLATE "C",
  deployment_id             text COLLATE "C",
  parent_task_run_id        text COLLATE "C",
  infrastructure_pid        text,
  work_queue_id             text COLLATE "C"
);

CREATE TABLE task_run (
  id                        text COLLATE "C" PRIMARY KEY,
  created                   text COLLATE "C" NOT NULL,
  updated                   text COLLATE "C" NOT NULL,
  name                      text NOT NULL,
  state_id                  text COLLATE "C",
  state_type                text COLLATE "C",
  state_name                text,
  state_timestamp           text COLLATE "C",
  run_count                 bigint NOT NULL DEFAULT 0,
  expected_start_time       text COLLATE "C",
  next_scheduled_start_time text COLLATE "C",
  start_time                text COLLATE "C",
  end_time                  text COLLATE "C",
  total_run_time_us         bigint NOT NULL DEFAULT 0,
  empirical_policy          text NOT NULL DEFAULT '{}',
  tags                      text NOT NULL DEFAULT '[]',
  flow_run_id               text COLLATE "C" REFERENCES flow_run (id) ON DELETE CASCADE,
  flow_run_run_count        bigint NOT NULL DEFAULT 0,
  task_key                  text COLLATE "C",
  dynamic_key               text COLLATE "C" NOT NULL DEFAULT ''
);

-- Failed task runs of a flow run (legacy RetryFailedFlows), by id.
CREATE INDEX ix_task_run__flow_run_id_state_type ON task_run (flow_run_id, state_type, id);

CREATE TABLE artifact (
  id          text COLLATE "C" PRIMARY KEY,
  created     text COLLATE "C" NOT NULL,
  key         text COLLATE "C",
  type        text COLLATE "C",
  description text,
  data        text,
  flow_run_id text COLLATE "C",
  task_run_id text COLLATE "C"
);

-- A state row reuses the validated State's id and timestamp; a run's history is read in
-- (run, timestamp) order, which is also Prefect's unique rule.
CREATE TABLE flow_run_state (
  id                 text COLLATE "C" NOT NULL UNIQUE,
  created            text COLLATE "C" NOT NULL,
  flow_run_id        text COLLATE "C" NOT NULL REFERENCES flow_run (id) ON DELETE CASCADE,
  type               text COLLATE "C" NOT NULL,
  name               text NOT NULL,
  message            text,
  timestamp          text COLLATE "C" NOT NULL,
  state_details      text NOT NULL,
  data               text,  -- legacy column: never written, read as a fallback
  result_artifact_id text COLLATE "C" REFERENCES artifact (id) ON DELETE SET NULL,
  CONSTRAINT flow_run_state_run_timestamp PRIMARY KEY (flow_run_id, timestamp)
);

CREATE TABLE task_run_state (
  id                 text COLLATE "C" NOT NULL UNIQUE,
  created            text COLLATE "C" NOT NULL,
  task_run_id        text COLLATE "C" NOT NULL REFERENCES task_run (id) ON DELETE CASCADE,
  type               text COLLATE "C" NOT NULL,
  name               text NOT NULL,
  message            text,
  timestamp          text COLLATE "C" NOT NULL,
  state_details      text NOT NULL,
  data               text,
  result_artifact_id text COLLATE "C" REFERENCES artifact (id) ON DELETE SET NULL,
  CONSTRAINT task_run_state_run_timestamp PRIMARY KEY (task_run_id, timestamp)
);

-- The orchestration log (SQLite 001, 004, 005): one row per set-state attempt, with the event
-- the transition emitted. Each distinct signature list is stored once.

CREATE TABLE signature (
  id    bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  names text NOT NULL  -- JSON array of entry names, in signing order
);
-- Unique by digest: a list of long names can pass the size a btree entry may have.
CREATE UNIQUE INDEX uq_signature__names ON signature (md5(names));

-- Log ids come from this sequence through runctl_next_log_id(), never from a default: see there.
CREATE SEQUENCE orchestration_log_id_seq AS bigint;

CREATE TABLE orchestration_log (
  id                        bigint PRIMARY KEY,
  run_id                    text COLLATE "C" NOT NULL,
  run_kind                  text NOT NULL CHECK (run_kind IN ('flow', 'task')),
  at                        text COLLATE "C" NOT NULL,
  initial_type              text,
  proposed_state            text,  -- JSON
  status                    text NOT NULL,
  details                   text,  -- JSON; NULL for a plain ACCEPT
  validated_state_id        text COLLATE "C",
  rule_signature_id         bigint NOT NULL REFERENCES signature (id),
  finalization_signature_id bigint NOT NULL REFERENCES signature (id),
  error                     text,
  duration_us               bigint NOT NULL,
  policy                    text NOT NULL,
  forced                    boolean NOT NULL DEFAULT false,
  event                     text,  -- prefect.flow-run.<state name>, or NULL
  event_occurred            text COLLATE "C",
  event_resource            text,  -- JSON object
  event_related             text,  -- JSON array
  event_payload             text,  -- JSON object
  event_follows             text COLLATE "C"
);
ALTER SEQUENCE orchestration_log_id_seq OWNED BY orchestration_log.id;

CREATE INDEX ix_orchestration_log__run_id ON orchestration_log (run_id, id);

-- The next log id, taken only once the transaction has its transaction id. A reader that follows
-- the log by id (events --follow) waits out the transactions open when it finds a gap in the
-- ids (docs/postgres.md): every id not yet committed then belongs to one of them, because no
-- transaction takes an id before it has a transaction id of its own.
CREATE FUNCTION runctl_next_log_id() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_current_xact_id();
  RETURN nextval('orchestration_log_id_seq');
END
$$;

-- The task-run state cache and the background task queue (SQLite 002, 005).

CREATE TABLE task_run_state_cache (
  seq               bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,  -- insertion order
  id                text COLLATE "C" NOT NULL UNIQUE,
  created           text COLLATE "C" NOT NULL,
  cache_key         text COLLATE "C" NOT NULL,
  cache_expiration  text COLLATE "C",
  task_run_state_id text COLLATE "C" NOT NULL
);

CREATE INDEX ix_task_run_state_cache__cache_key_created
  ON task_run_state_cache (cache_key, created DESC, seq DESC);

CREATE TABLE task_queue (
  seq         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,  -- FIFO order
  id          text COLLATE "C" NOT NULL UNIQUE,
  task_key    text COLLATE "C" NOT NULL,
  queue       text COLLATE "C" NOT NULL CHECK (queue IN ('scheduled', 'retry')),
  task_run_id text COLLATE "C" NOT NULL,
  enqueued_at text COLLATE "C" NOT NULL
);

CREATE INDEX ix_task_queue__task_key_queue ON task_queue (task_key, queue, seq);

-- Concurrency limits, flows, deployments and leases (SQLite 003).

-- V1 tag limits. active_slots is a JSON array of task-run ids used as a set, sorted.
CREATE TABLE concurrency_limit (
  id                text COLLATE "C" PRIMARY KEY,
  created           text COLLATE "C" NOT NULL,
  updated           text COLLATE "C" NOT NULL,
  tag               text COLLATE "C" NOT NULL UNIQUE,
  concurrency_limit bigint NOT NULL CHECK (concurrency_limit >= 0),
  active_slots      text NOT NULL DEFAULT '[]'
);

-- V2 ("global") limits. `updated` is refreshed by every slot change: decay is measured from it.
CREATE TABLE concurrency_limit_v2 (
  id                         text COLLATE "C" PRIMARY KEY,
  created                    text COLLATE "C" NOT NULL,
  updated                    text COLLATE "C" NOT NULL,
  name                       text COLLATE "C" NOT NULL UNIQUE,
  "limit"                    bigint NOT NULL CHECK ("limit" >= 0),
  active                     boolean NOT NULL DEFAULT true,
  active_slots               bigint NOT NULL DEFAULT 0 CHECK (active_slots >= 0),
  denied_slots               bigint NOT NULL DEFAULT 0 CHECK (denied_slots >= 0),
  slot_decay_per_second      double precision NOT NULL DEFAULT 0 CHECK (slot_decay_per_second >= 0),
  avg_slot_occupancy_seconds double precision NOT NULL DEFAULT 2.0
);

-- Prefect's slot decay, as the SQLite backend computes it in C++ (concurrency: decay is measured
-- from a limit's `updated` to `now`, in whole slots): the microseconds between the two runctl
-- timestamps, as a double of seconds (0 when the clock went backwards), times the rate, floored.
CREATE FUNCTION runctl_seconds_since(since text, now text) RETURNS double precision
LANGUAGE sql STABLE STRICT AS $$
  SELECT CASE WHEN now > since
    THEN ((extract(epoch FROM now::timestamptz) - extract(epoch FROM since::timestamptz))
          * 1000000)::bigint::double precision / 1000000
    ELSE 0 END
$$;

-- `slots` less what decayed at `rate` per second over `seconds`, never below 0.
CREATE FUNCTION runctl_decayed(slots bigint, rate double precision, seconds double precision)
RETURNS bigint LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT greatest(0, slots - least(floor(rate * seconds), 9.0e18)::bigint)
$$;

-- Denied slots decay by slot_decay_per_second, else by one per average occupancy.
CREATE FUNCTION runctl_denied_decay_rate(slot_decay_per_second double precision,
                                         avg_slot_occupancy_seconds double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE WHEN slot_decay_per_second > 0 THEN slot_decay_per_second
              WHEN avg_slot_occupancy_seconds > 0 THEN 1::double precision / avg_slot_occupancy_seconds
              ELSE 0 END
$$;

CREATE TABLE flow (
  id      text COLLATE "C" PRIMARY KEY,
  created text COLLATE "C" NOT NULL,
  name    text COLLATE "C" NOT NULL UNIQUE,
  tags    text NOT NULL DEFAULT '[]'
);

-- A flow run's deployment_id is not a foreign key: Prefect lets it dangle.
CREATE TABLE deployment (
  id                   text COLLATE "C" PRIMARY KEY,
  created              text COLLATE "C" NOT NULL,
  updated              text COLLATE "C" NOT NULL,
  name                 text COLLATE "C" NOT NULL,
  flow_id              text COLLATE "C" NOT NULL REFERENCES flow (id) ON DELETE CASCADE,
  tags                 text NOT NULL DEFAULT '[]',
  concurrency_limit_id text COLLATE "C" REFERENCES concurrency_limit_v2 (id) ON DELETE SET NULL,
  concurrency_options  text,  -- JSON {"collision_strategy", "grace_period_seconds"}, or NULL
  CONSTRAINT deployment_flow_id_name_key UNIQUE (flow_id, name)
);

CREATE TABLE concurrency_lease (
  id            text COLLATE "C" PRIMARY KEY,
  created_at    text COLLATE "C" NOT NULL,
  expiration    text COLLATE "C" NOT NULL,
  slots         bigint NOT NULL,
  holder_type   text CHECK (holder_type IN ('flow_run', 'task_run', 'deployment')),
  holder_id     text COLLATE "C",
  origin_run_id text COLLATE "C"
);

CREATE INDEX ix_concurrency_lease__expiration ON concurrency_lease (expiration, id);

-- The limits a lease holds slots of; no foreign key to the limit, as in Prefect.
CREATE TABLE concurrency_lease_resource (
  lease_id text COLLATE "C" NOT NULL REFERENCES concurrency_lease (id) ON DELETE CASCADE,
  position bigint NOT NULL,
  limit_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (lease_id, position)
);

CREATE INDEX ix_concurrency_lease_resource__limit_id ON concurrency_lease_resource (limit_id);
