-- Every attempt at a round, opened when the round starts and closed when it is recorded. An attempt
-- still open when a coordinator starts was cut short by a stop or a crash: it is marked ABORTED
-- (nothing of it was released unless the ledger says so) and the round runs again.
CREATE TABLE round_attempts (
  job_id     VARCHAR(128) NOT NULL,
  round_no   INT          NOT NULL,
  attempt    INT          NOT NULL,
  status     VARCHAR(32)  NOT NULL,   -- OPEN, DONE, ABORTED
  stage      VARCHAR(64),             -- the last stage opened in it
  started_at TIMESTAMP    NOT NULL,
  ended_at   TIMESTAMP,
  PRIMARY KEY (job_id, round_no, attempt)
);
