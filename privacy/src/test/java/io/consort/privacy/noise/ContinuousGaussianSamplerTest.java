package io.consort.privacy.noise;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.privacy.TestRandomness;
import org.junit.jupiter.api.Test;

class ContinuousGaussianSamplerTest {

  private static final int N = 200_000;
  private static final double SIGMA = 3.0;

  /**
   * Mean within 6 standard errors (6 sigma / sqrt(N)) of 0 and sample variance within 6 standard errors
   * (sigma^2 sqrt(2/(N-1))) of sigma^2. Under a correct sampler each check fails with probability about
   * 2e-9 (normal approximation, N = 200,000), so about 4e-9 together; the fixed seed makes the run
   * deterministic.
   */
  @Test
  void meanAndVariance_matchSigma_overManyDraws() {
    ContinuousGaussianSampler sampler = new ContinuousGaussianSampler(SIGMA, TestRandomness.seeded(11));
    double sum = 0;
    double sumSq = 0;
    for (int i = 0; i < N; i++) {
      double x = sampler.sample();
      sum += x;
      sumSq += x * x;
    }
    double mean = sum / N;
    double variance = (sumSq - N * mean * mean) / (N - 1);
    double meanBound = 6 * SIGMA / Math.sqrt(N);
    double varianceBound = 6 * SIGMA * SIGMA * Math.sqrt(2.0 / (N - 1));
    assertTrue(Math.abs(mean) < meanBound, "mean " + mean + " beyond " + meanBound);
    assertTrue(Math.abs(variance - SIGMA * SIGMA) < varianceBound, "variance " + variance);
  }

  /**
   * The fraction of draws of the vector path within one sigma is 0.6827 within 6 binomial standard
   * errors: false-failure probability about 2e-9.
   */
  @Test
  void addNoise_hasGaussianShape_withinOneSigma() {
    ContinuousGaussianSampler sampler = new ContinuousGaussianSampler(SIGMA, TestRandomness.seeded(12));
    double[] values = new double[N + 1]; // odd length exercises the unpaired last coordinate
    sampler.addNoise(values);
    int inside = 0;
    for (double v : values) {
      if (Math.abs(v) <= SIGMA) {
        inside++;
      }
    }
    double p = 0.6826894921370859;
    double frac = (double) inside / values.length;
    assertTrue(Math.abs(frac - p) < 6 * Math.sqrt(p * (1 - p) / values.length), "fraction within 1 sigma " + frac);
  }

  @Test
  void uniform53_staysInUnitInterval_andUsesLowBits() {
    ContinuousGaussianSampler sampler = new ContinuousGaussianSampler(1.0, TestRandomness.seeded(13));
    boolean sawFineGrain = false;
    for (int i = 0; i < 1000; i++) {
      double u = sampler.uniform53();
      assertTrue(u >= 0.0 && u < 1.0);
      // a double with 53 random bits is rarely a multiple of 2^-32
      sawFineGrain |= (u * 0x1.0p32) != Math.floor(u * 0x1.0p32);
    }
    assertTrue(sawFineGrain);
  }
}
