package io.consort.model.train;

/**
 * Record-level DP-SGD (Abadi et al., CCS 2016) as Consort runs it inside a bank: each step samples
 * a batch by including every row independently with probability {@code samplingRate} (Poisson
 * sampling, which the RDP accountant of Mironov, Talwar and Zhang 2019 assumes), clips each
 * example's gradient to L2 norm {@code clipNorm}, adds N(0, (noiseMultiplier * clipNorm)^2) to each
 * coordinate of the sum, and divides by the expected batch size {@code samplingRate * rows}.
 *
 * @param noiseMultiplier z, noise standard deviation in units of the clip norm; 0 adds no noise and
 *     gives no privacy (useful only to test clipping)
 * @param clipNorm C, the per-example gradient L2 bound, finite and > 0
 * @param samplingRate q in (0, 1], expected batch size divided by the bank's training rows
 */
public record DpSgdConfig(double noiseMultiplier, double clipNorm, double samplingRate) {
  public DpSgdConfig {
    if (!Double.isFinite(noiseMultiplier) || noiseMultiplier < 0) {
      throw new IllegalArgumentException(
          "noiseMultiplier must be finite and >= 0, got " + noiseMultiplier);
    }
    if (!Double.isFinite(clipNorm) || clipNorm <= 0) {
      throw new IllegalArgumentException("clipNorm must be finite and > 0, got " + clipNorm);
    }
    if (!Double.isFinite(samplingRate) || samplingRate <= 0 || samplingRate > 1) {
      throw new IllegalArgumentException("samplingRate must be in (0, 1], got " + samplingRate);
    }
  }

  /** The configuration whose expected Poisson batch is {@code expectedBatch} of {@code rows}. */
  public static DpSgdConfig forExpectedBatch(
      double noiseMultiplier, double clipNorm, int expectedBatch, int rows) {
    if (expectedBatch <= 0 || rows <= 0) {
      throw new IllegalArgumentException(
          "expectedBatch and rows must be positive, got " + expectedBatch + " and " + rows);
    }
    return new DpSgdConfig(noiseMultiplier, clipNorm, Math.min(1.0, (double) expectedBatch / rows));
  }

  /** Steps that make {@code epochs} passes in expectation: round(epochs / q), at least 1. */
  public int stepsFor(int epochs) {
    return (int) Math.max(1, Math.round(epochs / samplingRate));
  }
}
