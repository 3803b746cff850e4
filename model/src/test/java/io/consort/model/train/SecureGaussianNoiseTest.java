package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.random.ReproducibleRandom;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The production noise source, {@link GaussianNoise#secure()}, against N(0, sigma^2). */
class SecureGaussianNoiseTest {
  private static final int N = 200_000;
  private static final double SIGMA = 1.7;

  private static float[] productionNoise() {
    float[] noise = new float[N];
    GaussianNoise.secure().addOnGrid(noise, N, SIGMA, GaussianNoise.gridFor(1.0, 1_000_000));
    return noise;
  }

  /**
   * Mean within 5 standard errors of 0 (5 sigma / sqrt(N)) and sample variance within 5 standard
   * errors (sigma^2 sqrt(2 / (N - 1))) of sigma^2: each fails a correct sampler with probability
   * about 5.7e-7 (normal approximation), 1.2e-6 together.
   */
  @Test
  void productionNoise_hasMeanZeroAndVarianceSigmaSquared() {
    float[] noise = productionNoise();
    double sum = 0;
    double squares = 0;
    for (float v : noise) {
      sum += v;
      squares += (double) v * v;
    }
    double mean = sum / N;
    double variance = (squares - N * mean * mean) / (N - 1);
    assertTrue(Math.abs(mean) < 5 * SIGMA / Math.sqrt(N), "mean " + mean);
    assertTrue(Math.abs(variance - SIGMA * SIGMA) < 5 * SIGMA * SIGMA * Math.sqrt(2.0 / (N - 1)),
        "variance " + variance);
  }

  /**
   * Kolmogorov-Smirnov against the normal CDF: the largest gap D between the empirical and the
   * normal CDF stays below d = sqrt(ln(2 / alpha) / (2 N)) with alpha = 1e-6 (P[D > d] <= 2 exp(-2 N
   * d^2) = alpha, Dvoretzky-Kiefer-Wolfowitz with Massart's constant), so a correct sampler fails with
   * probability at most 1e-6. The CDF approximation below errs by at most 1.5e-7, far below d.
   */
  @Test
  void productionNoise_passesKolmogorovSmirnovAgainstTheNormal() {
    float[] noise = productionNoise();
    Arrays.sort(noise);
    double d = 0;
    for (int i = 0; i < N; i++) {
      double cdf = normalCdf(noise[i] / SIGMA);
      d = Math.max(d, Math.max((i + 1.0) / N - cdf, cdf - (double) i / N));
    }
    double limit = Math.sqrt(Math.log(2 / 1e-6) / (2.0 * N));
    assertTrue(d < limit, "KS distance " + d + " >= " + limit);
  }

  /** The bulk grid path computes exactly what {@link GaussianNoise#onGrid} does, value by value. */
  @Test
  void addOnGrid_equalsOnGridBitForBit_givenTheSameDraws() {
    GaussianNoise bulk = new PolarGaussianNoise(ReproducibleRandom.of("grid-twin", 5));
    GaussianNoise single = new PolarGaussianNoise(ReproducibleRandom.of("grid-twin", 5));
    ReproducibleRandom inputs = ReproducibleRandom.of("grid-twin-inputs", 6);
    float[] values = new float[10_001];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (inputs.nextGaussian() * 0.01);
    }
    float[] expected = new float[values.length];
    double grid = GaussianNoise.gridFor(1.0, 984_833);
    for (int i = 0; i < values.length; i++) {
      expected[i] = (float) single.onGrid(values[i], SIGMA, grid);
    }
    bulk.addOnGrid(values, values.length, SIGMA, grid);
    for (int i = 0; i < values.length; i++) {
      assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(values[i]), "coordinate " + i);
    }
  }

  /** Phi(x) by Abramowitz and Stegun 7.1.26 for erf (absolute error below 1.5e-7). */
  private static double normalCdf(double x) {
    double z = Math.abs(x) / Math.sqrt(2);
    double t = 1 / (1 + 0.3275911 * z);
    double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    double erf = 1 - poly * Math.exp(-z * z);
    return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
  }
}
