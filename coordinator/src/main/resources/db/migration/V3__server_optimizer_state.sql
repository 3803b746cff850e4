-- The server optimiser's memory (momentum, moments) after each checkpointed round, so a resumed job
-- continues the same trajectory. consort.v1.ServerOptimizerState, protobuf bytes. Null for rows
-- written before it existed (all FedAvg, which remembers nothing).
ALTER TABLE checkpoints ADD COLUMN server_state BLOB;
