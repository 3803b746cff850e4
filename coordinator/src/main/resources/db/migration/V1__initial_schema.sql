-- Coordinator state: jobs, members, per-round metrics and model checkpoints.
CREATE TABLE jobs (
  job_id       VARCHAR(128) PRIMARY KEY,
  plan         BLOB         NOT NULL,   -- consort.v1.JobPlan, protobuf bytes
  status       VARCHAR(32)  NOT NULL,   -- WAITING, RUNNING, COMPLETED, FAILED
  reason       VARCHAR(2000),
  created_at   TIMESTAMP    NOT NULL,
  updated_at   TIMESTAMP    NOT NULL
);

CREATE TABLE members (
  member_id      VARCHAR(128) PRIMARY KEY,
  cert_serial    VARCHAR(128) NOT NULL,
  first_enrolled TIMESTAMP    NOT NULL,
  last_seen      TIMESTAMP    NOT NULL
);

CREATE TABLE job_members (
  job_id            VARCHAR(128) NOT NULL,
  member_id         VARCHAR(128) NOT NULL,
  accepted          BOOLEAN      NOT NULL,
  projected_epsilon DOUBLE PRECISION,
  reason            VARCHAR(2000),
  train_rows        BIGINT,
  test_rows         BIGINT,
  PRIMARY KEY (job_id, member_id)
);

CREATE TABLE rounds (
  job_id             VARCHAR(128) NOT NULL,
  round_no           INT          NOT NULL,
  status             VARCHAR(32)  NOT NULL,  -- COMPLETED, ABORTED
  record             CLOB         NOT NULL,  -- JSON: participants, dropped, declined, metrics, timing
  PRIMARY KEY (job_id, round_no)
);

CREATE TABLE checkpoints (
  job_id     VARCHAR(128) NOT NULL,
  round_no   INT          NOT NULL,
  model      BLOB         NOT NULL,   -- consort.v1.ModelParameters, protobuf bytes
  sha256     VARCHAR(64)  NOT NULL,
  created_at TIMESTAMP    NOT NULL,
  PRIMARY KEY (job_id, round_no)
);
