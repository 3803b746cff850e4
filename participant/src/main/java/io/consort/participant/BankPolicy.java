package io.consort.participant;

import io.consort.spec.JobSpec;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a bank agrees to take part in, from its own configuration ({@code policy:} in its config).
 * It is checked at the offer and again at every task against the plan the bank pinned, so a job
 * the policy refuses never runs, whatever the coordinator sends later.
 *
 * @param allowNonPrivateJobs whether the bank takes part in jobs without record-level DP (no DP, or
 *     bank-level DP only); off by default: a bank whose customers' records leave in updates without
 *     record-level DP must say so explicitly
 * @param requireSecureAggregation whether the bank refuses jobs that would send its update in the
 *     clear; on by default
 * @param minBanks the fewest banks the bank lets a job (its {@code min_banks}) or a secure round (its
 *     roster) have; at least 2, since a sum of one bank is that bank's update
 * @param minThreshold the lowest secure-aggregation threshold the bank accepts in a round, if it
 *     sets one
 */
public record BankPolicy(boolean allowNonPrivateJobs, boolean requireSecureAggregation, int minBanks,
                         OptionalInt minThreshold) {
  public static final int DEFAULT_MIN_BANKS = 2;

  public BankPolicy {
    if (minBanks < 2) {
      throw new IllegalArgumentException("policy.min_banks must be >= 2 (a sum of one bank is that bank's update), got "
          + minBanks);
    }
    minThreshold = minThreshold == null ? OptionalInt.empty() : minThreshold;
    if (minThreshold.isPresent() && minThreshold.getAsInt() < 2) {
      throw new IllegalArgumentException("policy.min_threshold must be >= 2, got " + minThreshold.getAsInt());
    }
  }

  /** Record-level DP and secure aggregation required, at least two banks. */
  public static BankPolicy strict() {
    return new BankPolicy(false, true, DEFAULT_MIN_BANKS, OptionalInt.empty());
  }

  /** Why this policy refuses {@code spec}, naming the policy key; empty when it allows it. */
  public Optional<String> refusal(JobSpec spec) {
    if (!allowNonPrivateJobs && !spec.privacy().recordLevel()) {
      return Optional.of("policy.allow_non_private_jobs is false and the job has no record-level DP (privacy unit "
          + spec.privacy().mode().wireName() + ")");
    }
    if (requireSecureAggregation && !spec.secureAggregation().enabled()) {
      return Optional.of("policy.require_secure_aggregation is true and the job sends updates without secure "
          + "aggregation");
    }
    if (spec.training().minBanks() < minBanks) {
      return Optional.of("policy.min_banks is " + minBanks + " and the job's min_banks is "
          + spec.training().minBanks());
    }
    if (minThreshold.isPresent() && spec.secureAggregation().threshold().isPresent()
        && spec.secureAggregation().threshold().getAsInt() < minThreshold.getAsInt()) {
      return Optional.of("policy.min_threshold is " + minThreshold.getAsInt() + " and the job's threshold is "
          + spec.secureAggregation().threshold().getAsInt());
    }
    return Optional.empty();
  }

  /** Why this policy refuses a secure round (or sum) of {@code rosterSize} banks. */
  public Optional<String> rosterRefusal(int rosterSize) {
    if (rosterSize < minBanks) {
      return Optional.of("policy.min_banks is " + minBanks + " and the round has " + rosterSize + " banks");
    }
    return Optional.empty();
  }

  /** Why this policy refuses a secure round (or sum) at {@code threshold}, which the bank derived itself. */
  public Optional<String> thresholdRefusal(int threshold) {
    if (minThreshold.isPresent() && threshold < minThreshold.getAsInt()) {
      return Optional.of("policy.min_threshold is " + minThreshold.getAsInt() + " and the round's threshold is "
          + threshold);
    }
    return Optional.empty();
  }
}
