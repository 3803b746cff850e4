package io.consort.privacy.accounting;

import io.consort.privacy.DpPreconditions;

/**
 * A bank's record-level DP-SGD work for one round: Poisson sampling at rate q = batchSize / rows and
 * ceil(localEpochs * rows / batchSize) steps (one epoch is 1/q expected batches).
 *
 * @param rows the bank's own training rows
 * @param batchSize expected Poisson batch size
 * @param localEpochs local epochs in the round
 * @param noiseMultiplier DP-SGD noise multiplier z
 */
public record LocalTrainingPlan(long rows, int batchSize, int localEpochs, double noiseMultiplier) {

  public LocalTrainingPlan {
    DpPreconditions.checkPositiveCount("rows", rows);
    DpPreconditions.checkPositiveCount("batch size", batchSize);
    DpPreconditions.checkPositiveCount("local epochs", localEpochs);
    DpPreconditions.checkNoiseMultiplier(noiseMultiplier);
    if (batchSize > rows) {
      throw new IllegalArgumentException("batch size must be <= rows (sampling rate in (0, 1]), got batch size "
          + batchSize + " for rows " + rows);
    }
  }

  public double samplingRate() {
    return (double) batchSize / (double) rows;
  }

  public long steps() {
    return (long) Math.ceil((double) localEpochs * rows / batchSize);
  }

  /**
   * The round plan whose noise multiplier is the smallest that keeps {@code rounds} such rounds within
   * {@code targetEpsilon} at {@code delta}: how a bank turns a job's target into its own DP-SGD noise.
   */
  public static LocalTrainingPlan calibrated(long rows, int batchSize, int localEpochs, int rounds,
      double targetEpsilon, double delta) {
    LocalTrainingPlan perRound = new LocalTrainingPlan(rows, batchSize, localEpochs, 1.0);
    double z = NoiseCalibration.defaults().noiseMultiplier(targetEpsilon, perRound.samplingRate(),
        perRound.steps() * (long) rounds, delta);
    return new LocalTrainingPlan(rows, batchSize, localEpochs, z);
  }

  /** The accounting event this round's training amounts to. */
  public SampledGaussianEvent event() {
    return new SampledGaussianEvent(noiseMultiplier, samplingRate(), steps());
  }
}
