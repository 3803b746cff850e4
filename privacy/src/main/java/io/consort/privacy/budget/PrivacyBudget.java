package io.consort.privacy.budget;

import io.consort.privacy.DpPreconditions;

/**
 * A cap on the (epsilon, delta)-DP a privacy unit may accumulate, e.g. a bank's own cap on record-level
 * privacy over all jobs.
 *
 * @param epsilonCap the largest total epsilon allowed
 * @param delta the delta at which epsilon is measured
 */
public record PrivacyBudget(double epsilonCap, double delta) {

  public PrivacyBudget {
    DpPreconditions.checkEpsilon(epsilonCap);
    DpPreconditions.checkDelta(delta);
  }
}
