package io.consort.privacy.ledger;

import io.consort.privacy.DpPreconditions;
import io.consort.privacy.accounting.PrivacyEvent;

/**
 * One bank's share of the record-level DP-SGD noise of one federated-SGD step under secure aggregation
 * (distributed record-level noise, docs/PRIVACY.md). Each bank Poisson-samples its own rows at the job's
 * rate q, sums their clipped per-example gradients (clip C), quantises the sum with the round's scale s
 * and adds a discrete Gaussian share of sigma_i quantised units; the coordinator unmasks only the sum.
 *
 * <p>The shares are sized so that the noise no adversary can remove is at least what one centralised
 * DP-SGD step with multiplier z adds: sigma_i = z Delta2 / sqrt(t - k), where t is the round's
 * threshold (no sum of fewer survivors is unmasked), k the number of colluding banks the job allows for
 * (each knows, and could subtract, its own share), and Delta2 = C s + sqrt(d) the sensitivity of the
 * quantised sum to one record. With m survivors the accounting counts m - k shares: effective multiplier
 * sqrt(m - k) sigma_i / Delta2 >= z. Banks that drop out add no noise and are not counted.
 *
 * @param perBankSigma sigma_i, quantised units
 * @param threshold t
 * @param colluders k, at least 1 (any other bank holding the model knows its own share), below t
 * @param samplingRate q, the job's Poisson rate, the same at every bank
 * @param clipNorm C, the per-example clip, model units
 * @param l2Sensitivity Delta2, quantised units
 * @param dimension d
 */
public record RecordNoiseShare(double perBankSigma, int threshold, int colluders, double samplingRate,
                               double clipNorm, double l2Sensitivity, long dimension) {
  public RecordNoiseShare {
    DpPreconditions.checkSigma(perBankSigma);
    if (threshold < 2) {
      throw new IllegalArgumentException("threshold must be >= 2, got " + threshold);
    }
    if (colluders < 1 || colluders >= threshold) {
      throw new IllegalArgumentException("colluders must be in [1, threshold - 1] = [1, " + (threshold - 1)
          + "], got " + colluders);
    }
    DpPreconditions.checkSamplingRate(samplingRate);
    DpPreconditions.checkClipNorm(clipNorm);
    DpPreconditions.checkFinitePositive("l2 sensitivity", l2Sensitivity);
    DpPreconditions.checkPositiveCount("dimension", dimension);
  }

  /**
   * sigma_i for a job noise multiplier z: with only t survivors, the t - k shares the colluders cannot
   * remove carry z Delta2.
   */
  public static double perBankSigma(double noiseMultiplier, double l2Sensitivity, int threshold, int colluders) {
    DpPreconditions.checkNoiseMultiplier(noiseMultiplier);
    if (colluders < 1 || colluders >= threshold) {
      throw new IllegalArgumentException("colluding banks must be in [1, threshold - 1] = [1, " + (threshold - 1)
          + "], got " + colluders);
    }
    return noiseMultiplier * l2Sensitivity / Math.sqrt(threshold - colluders);
  }

  /** The multiplier the accounting uses with {@code survivors} shares in the sum: sqrt(m - k) sigma_i / Delta2. */
  public double effectiveNoiseMultiplier(int survivors) {
    if (survivors < threshold) {
      throw new IllegalArgumentException(survivors + " survivors is below the threshold " + threshold
          + ": no such sum is unmasked");
    }
    return Math.sqrt(survivors - colluders) * perBankSigma / l2Sensitivity;
  }

  /** The ledger's record of this step for {@code bankId} when {@code survivors} shares are in the sum. */
  public MechanismRecord mechanism(String bankId, int survivors) {
    return new MechanismRecord(PrivacyUnit.RECORD, bankId, MechanismKind.DISTRIBUTED_SAMPLED_GAUSSIAN,
        effectiveNoiseMultiplier(survivors), samplingRate, 1, clipNorm, Math.sqrt(survivors) * perBankSigma,
        perBankSigma, survivors, l2Sensitivity, 0, dimension);
  }

  /** The step's accounting event with {@code survivors} shares in the sum. */
  public PrivacyEvent event(int survivors) {
    return mechanism("bank", survivors).toEvent(SpendCalculator.ACCOUNTING);
  }

  /** The most the step can cost before the survivors are known: only the threshold survive. */
  public PrivacyEvent worstCaseEvent() {
    return event(threshold);
  }
}
