package io.consort.coordinator.job;

import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.protocol.v1.JobPlan;
import java.time.Duration;
import java.util.Objects;

/**
 * A federated job as the operator defines it: the validated specification every bank sees, plus
 * the coordinator-only scheduling rules.
 *
 * @param spec what the banks are asked to do (schema, model, rounds, privacy, secure aggregation)
 * @param expectedBanks how many enrolled banks to wait for before offering the job
 * @param startTimeout how long to wait for them; the job starts with at least {@code min_banks}
 * @param stageTimeout deadline of each stage of a round; banks that miss it are dropped for the round
 */
public record JobDefinition(JobSpec spec, int expectedBanks, Duration startTimeout, Duration stageTimeout) {
  public JobDefinition {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(startTimeout, "startTimeout");
    Objects.requireNonNull(stageTimeout, "stageTimeout");
    if (expectedBanks < spec.training().minBanks()) {
      throw new IllegalArgumentException("expected_banks (" + expectedBanks + ") must be >= min_banks ("
          + spec.training().minBanks() + ")");
    }
    if (startTimeout.isNegative()) {
      throw new IllegalArgumentException("start_timeout_seconds must be >= 0, got " + startTimeout);
    }
    if (stageTimeout.toMillis() < 1) {
      throw new IllegalArgumentException("stage timeout must be at least 1 ms, got " + stageTimeout);
    }
  }

  public String jobId() {
    return spec.id();
  }

  /** The specification as the banks receive it. */
  public JobPlan plan() {
    return JobSpecWire.toProto(spec);
  }
}
