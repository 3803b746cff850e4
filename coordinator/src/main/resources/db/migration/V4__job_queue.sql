-- Jobs on demand: the coordinator's scheduling rules of each submitted job and its place in the
-- queue, so that a restarted coordinator resumes its queue. Null for a job stored before (the job
-- of the coordinator's configuration, whose rules come from there). New states: QUEUED, CANCELLED.
ALTER TABLE jobs ADD COLUMN expected_banks INT;
ALTER TABLE jobs ADD COLUMN start_timeout_ms BIGINT;
ALTER TABLE jobs ADD COLUMN stage_timeout_ms BIGINT;
ALTER TABLE jobs ADD COLUMN queue_seq BIGINT;
