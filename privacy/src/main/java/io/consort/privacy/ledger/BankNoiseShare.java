package io.consort.privacy.ledger;

import io.consort.privacy.DpPreconditions;
import io.consort.privacy.accounting.DistributedDiscreteGaussian;
import io.consort.privacy.accounting.PrivacyEvent;

/**
 * What one bank's discrete Gaussian share in one secure round amounts to (Kairouz, Liu, Steinke 2021):
 * everything the ledger records about the round's bank-level noise except the survivor count, which
 * is known only once the round is unmasked. The coordinator and a bank derive it from the same job
 * specification; the bank keeps it to check the entry it is asked to countersign and to account its
 * own bank-level spend.
 *
 * @param perBankSigma sigma_i, quantised units
 * @param threshold t: no sum of fewer survivors is released
 * @param clipNorm C, model units
 * @param l2Sensitivity Delta2 of the quantised sum with respect to one bank
 * @param dimension d
 */
public record BankNoiseShare(double perBankSigma, int threshold, double clipNorm, double l2Sensitivity,
                             long dimension) {
  public BankNoiseShare {
    DpPreconditions.checkSigma(perBankSigma);
    if (threshold < 2) {
      throw new IllegalArgumentException("threshold must be >= 2, got " + threshold);
    }
    DpPreconditions.checkClipNorm(clipNorm);
    DpPreconditions.checkFinitePositive("l2 sensitivity", l2Sensitivity);
    DpPreconditions.checkPositiveCount("dimension", dimension);
  }

  /** The ledger's record of this noise when {@code survivors} banks' shares are in the released sum. */
  public MechanismRecord mechanism(int survivors) {
    return MechanismRecord.distributedDiscreteGaussian(clipNorm, perBankSigma, survivors, l2Sensitivity,
        DistributedDiscreteGaussian.l1Bound(l2Sensitivity, dimension), dimension);
  }

  /** The round's event under the current accounting when {@code survivors} banks are in the sum. */
  public PrivacyEvent event(int survivors) {
    return mechanism(survivors).toEvent(SpendCalculator.ACCOUNTING);
  }

  /**
   * The most the round can cost, before the survivors are known: a sum is released only with at least
   * t survivors, and fewer survivors carry less noise.
   */
  public PrivacyEvent worstCaseEvent() {
    return event(threshold);
  }
}
