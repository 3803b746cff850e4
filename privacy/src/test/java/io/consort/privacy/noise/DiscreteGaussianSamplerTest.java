package io.consort.privacy.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.privacy.TestRandomness;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class DiscreteGaussianSamplerTest {

  /** Two-sided normal tail at 5.5 standard errors is 3.8e-8 per check. */
  private static final double Z = 5.5;

  /**
   * sigma^2 = 9/4 exactly. For each x in -4..4 and for the tail |x| >= 5, the count of N = 100,000 draws
   * lies within 5.5 binomial standard errors of N p(x), p(x) = exp(-x^2 / 4.5) / sum_k exp(-k^2 / 4.5)
   * (the exact probability mass). Ten checks at 3.8e-8 each: false-failure probability below 4e-7 under
   * a correct sampler (normal approximation to the binomial). Deterministic with the fixed seed.
   */
  @Test
  void sample_matchesExactProbabilityMass_onSmallSupport() {
    DiscreteGaussianSampler sampler =
        new DiscreteGaussianSampler(BigInteger.valueOf(9), BigInteger.valueOf(4), TestRandomness.seeded(21));
    int n = 100_000;
    int[] counts = new int[9];
    int tail = 0;
    for (int i = 0; i < n; i++) {
      long x = sampler.sample();
      if (Math.abs(x) <= 4) {
        counts[(int) x + 4]++;
      } else {
        tail++;
      }
    }
    double norm = 0;
    for (int k = -60; k <= 60; k++) {
      norm += Math.exp(-k * k / 4.5);
    }
    double inside = 0;
    for (int x = -4; x <= 4; x++) {
      double p = Math.exp(-x * x / 4.5) / norm;
      inside += p;
      assertWithin(counts[x + 4], n, p, "P[X=" + x + "]");
    }
    assertWithin(tail, n, 1 - inside, "P[|X|>=5]");
  }

  private static void assertWithin(int count, int n, double p, String what) {
    double expected = n * p;
    double se = Math.sqrt(n * p * (1 - p));
    assertTrue(Math.abs(count - expected) <= Z * se,
        what + ": count " + count + ", expected " + expected + " +- " + (Z * se));
  }

  /**
   * For sigma = 20 the discrete Gaussian's variance equals sigma^2 to within 1e-300 (CKS20, Corollary 9's
   * bound is negligible at this sigma); the sample variance of 20,000 draws lies within 6 standard errors
   * (sigma^2 sqrt(2/N)) and the mean within 6 sigma/sqrt(N): false-failure probability about 4e-9.
   */
  @Test
  void sample_hasVarianceSigmaSquared_forLargerSigma() {
    DiscreteGaussianSampler sampler = DiscreteGaussianSampler.ofSigma(20.0, TestRandomness.seeded(22));
    int n = 20_000;
    long[] values = new long[n];
    sampler.addNoise(values);
    double sum = 0;
    double sumSq = 0;
    for (long v : values) {
      sum += v;
      sumSq += (double) v * v;
    }
    double mean = sum / n;
    double variance = (sumSq - n * mean * mean) / (n - 1);
    assertTrue(Math.abs(mean) < 6 * 20 / Math.sqrt(n), "mean " + mean);
    assertTrue(Math.abs(variance - 400) < 6 * 400 * Math.sqrt(2.0 / n), "variance " + variance);
    assertEquals(400.0, sampler.variance(), 0.0);
  }

  /**
   * Bernoulli(exp(-gamma)) for gamma = 1/3 and 5/2 (both branches of CKS20 Algorithm 1): frequency over
   * 100,000 trials within 6 standard errors, false-failure probability about 4e-9 in total.
   */
  @Test
  void bernoulliExpNeg_hasProbabilityExpMinusGamma() {
    ExactBernoulli bernoulli = new ExactBernoulli(TestRandomness.seeded(23));
    int n = 100_000;
    for (int[] gamma : new int[][] {{1, 3}, {5, 2}}) {
      int hits = 0;
      for (int i = 0; i < n; i++) {
        if (bernoulli.expNeg(BigInteger.valueOf(gamma[0]), BigInteger.valueOf(gamma[1]))) {
          hits++;
        }
      }
      double p = Math.exp(-(double) gamma[0] / gamma[1]);
      assertTrue(Math.abs(hits - n * p) < 6 * Math.sqrt(n * p * (1 - p)), "gamma " + gamma[0] + "/" + gamma[1]);
    }
  }

  @Test
  void constructor_rejectsNonPositiveVariance() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new DiscreteGaussianSampler(BigInteger.ZERO, BigInteger.ONE, TestRandomness.seeded(1)));
    assertEquals("sigma^2 must be > 0, got 0/1", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DiscreteGaussianSampler.ofSigma(Double.NaN));
  }
}
