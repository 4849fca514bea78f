-- Naming a run on the command line (`show my-run`, docs/cli.md "Naming runs"): a run reference
-- that is no id prefix is looked up by exact name, one index probe instead of a scan of every
-- run. The id comes along so the matches are listed by id from the index alone.
CREATE INDEX ix_flow_run__name ON flow_run (name, id);
CREATE INDEX ix_task_run__name ON task_run (name, id);
