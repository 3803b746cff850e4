package io.consort.coordinator.job;

import io.consort.protocol.v1.JobPlan;
import java.time.Duration;
import java.util.Objects;

/**
 * A federated job as the operator defines it: the plan every bank sees, plus the coordinator-only
 * scheduling rules.
 *
 * @param plan what the banks are asked to do (schema, model, rounds, privacy, secure aggregation)
 * @param expectedBanks how many enrolled banks to wait for before offering the job
 * @param startTimeout how long to wait for them; the job starts with at least {@code plan.min_banks}
 * @param stageTimeout deadline of each stage of a round; banks that miss it are dropped for the round
 */
public record JobDefinition(JobPlan plan, int expectedBanks, Duration startTimeout, Duration stageTimeout) {
  public JobDefinition {
    Objects.requireNonNull(plan, "plan");
    if (plan.getJobId().isBlank()) {
      throw new IllegalArgumentException("job id must not be blank");
    }
    if (plan.getRounds() < 1) {
      throw new IllegalArgumentException("rounds must be >= 1, got " + plan.getRounds());
    }
    if (plan.getMinBanks() < 1) {
      throw new IllegalArgumentException("min_banks must be >= 1, got " + plan.getMinBanks());
    }
    if (expectedBanks < plan.getMinBanks()) {
      throw new IllegalArgumentException("expected banks (" + expectedBanks + ") must be >= min_banks ("
          + plan.getMinBanks() + ")");
    }
    if (stageTimeout.toMillis() < 1) {
      throw new IllegalArgumentException("stage timeout must be at least 1 ms, got " + stageTimeout);
    }
    io.consort.protocol.v1.PrivacyUnit unit = plan.getPrivacy().getUnit();
    if ((unit == io.consort.protocol.v1.PrivacyUnit.BANK || unit == io.consort.protocol.v1.PrivacyUnit.RECORD_AND_BANK)
        && !plan.getSecureAggregation().getEnabled()) {
      throw new IllegalArgumentException("bank-level DP adds noise shares under secure aggregation; enable "
          + "secure_aggregation or choose privacy unit record or off");
    }
  }

  public String jobId() {
    return plan.getJobId();
  }
}
