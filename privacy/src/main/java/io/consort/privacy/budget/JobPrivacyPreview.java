package io.consort.privacy.budget;

import io.consort.privacy.DpPreconditions;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.accounting.PrivacyGuarantee;
import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.accounting.SampledGaussianEvent;
import java.util.List;
import java.util.Objects;

/**
 * What a whole job would cost a bank at record level before it starts: R rounds of E local epochs of
 * DP-SGD on N rows. The rounds compose exactly as one run of R times the per-round steps at the same
 * sampling rate, since every step is the same subsampled Gaussian.
 */
public final class JobPrivacyPreview {

  private final RdpAccountant accountant;

  public JobPrivacyPreview(RdpAccountant accountant) {
    this.accountant = Objects.requireNonNull(accountant, "accountant");
  }

  public static JobPrivacyPreview defaults() {
    return new JobPrivacyPreview(RdpAccountant.defaults());
  }

  /**
   * @param rows N, the bank's training rows
   * @param batchSize expected batch size (sampling rate = batchSize / rows)
   * @param localEpochs E per round
   * @param rounds R, the rounds the bank takes part in
   * @param noiseMultiplier DP-SGD z
   * @param delta the delta at which to state epsilon
   */
  public PrivacyGuarantee recordLevel(long rows, int batchSize, int localEpochs, int rounds, double noiseMultiplier,
      double delta) {
    DpPreconditions.checkPositiveCount("rounds", rounds);
    LocalTrainingPlan perRound = new LocalTrainingPlan(rows, batchSize, localEpochs, noiseMultiplier);
    SampledGaussianEvent whole = new SampledGaussianEvent(noiseMultiplier, perRound.samplingRate(),
        Math.multiplyExact(perRound.steps(), (long) rounds));
    return accountant.guarantee(List.of(whole), delta);
  }

  /**
   * Bank-level cost of R rounds in which every bank takes part and the sum carries Gaussian noise with
   * multiplier z relative to the clip (sampling rate 1).
   */
  public PrivacyGuarantee bankLevel(int rounds, double noiseMultiplier, double delta) {
    DpPreconditions.checkPositiveCount("rounds", rounds);
    return accountant.guarantee(List.of(new SampledGaussianEvent(noiseMultiplier, 1.0, rounds)), delta);
  }
}
