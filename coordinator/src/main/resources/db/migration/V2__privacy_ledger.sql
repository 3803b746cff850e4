-- The privacy ledger: one signed, hash-chained entry per release, and the certificates of every
-- signer so the ledger can be exported and verified offline.
CREATE TABLE ledger_entries (
  seq        BIGINT       PRIMARY KEY,
  job_id     VARCHAR(128) NOT NULL,
  round_no   INT          NOT NULL,
  entry_hash VARCHAR(64)  NOT NULL,
  entry      CLOB         NOT NULL,    -- privacy SignedEntryJson form, with countersignatures
  created_at TIMESTAMP    NOT NULL
);

CREATE TABLE signer_certificates (
  fingerprint VARCHAR(64)  PRIMARY KEY,  -- SHA-256 of the DER certificate, hex
  subject     VARCHAR(512) NOT NULL,
  pem         CLOB         NOT NULL
);
