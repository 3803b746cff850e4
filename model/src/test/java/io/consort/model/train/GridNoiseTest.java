package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.random.ReproducibleRandom;
import org.junit.jupiter.api.Test;

/** Noise on a grid: the output is the input's grid point plus noise steps drawn without the input. */
class GridNoiseTest {
  private static final double SIGMA = 1.1;

  @Test
  void outputsAreGridMultiples_andTwoInputsWithTheSameNoiseDifferByTheirGridDifferenceOnly() {
    double grid = GaussianNoise.gridFor(1.0, 6209);
    assertEquals(Math.scalb(1.0, Math.getExponent(grid)), grid, "a power of two");
    assertTrue(grid * Math.sqrt(6209) / 2 <= 1e-6, "the input's rounding stays inside the clip margin");
    ReproducibleRandom inputs = ReproducibleRandom.of("grid-inputs", 1);
    GaussianNoise first = new PolarGaussianNoise(ReproducibleRandom.of("grid-noise", 2));
    GaussianNoise second = new PolarGaussianNoise(ReproducibleRandom.of("grid-noise", 2));
    for (int i = 0; i < 1000; i++) {
      double a = inputs.nextGaussian();
      double b = a + inputs.nextGaussian() * 1e-3;
      double outA = first.onGrid(a, SIGMA, grid);
      double outB = second.onGrid(b, SIGMA, grid);
      assertEquals(Math.rint(outA / grid), outA / grid, "output " + i + " is a whole number of grid steps");
      // the same noise draw shifts both inputs by the same whole number of steps: the output's low bits
      // are those of the input's grid point, never of the input itself
      assertEquals(Math.rint(b / grid) - Math.rint(a / grid), (outB - outA) / grid, "input " + i);
    }
  }

  /**
   * The noise keeps its variance: the sample variance of 200,000 draws is within 1.5% of sigma^2.
   * Its standard error is sigma^2 sqrt(2/n) = 0.32%, so a false failure needs a 4.7-sigma deviation:
   * probability about 3e-6.
   */
  @Test
  void noiseOnTheGrid_keepsItsVariance() {
    float[] zeros = new float[200_000];
    new PolarGaussianNoise(ReproducibleRandom.of("grid-variance", 3)).addOnGrid(zeros, zeros.length, SIGMA,
        GaussianNoise.gridFor(1.0, 200_000));
    double sum = 0;
    double squares = 0;
    for (float v : zeros) {
      sum += v;
      squares += (double) v * v;
    }
    double mean = sum / zeros.length;
    double variance = squares / zeros.length - mean * mean;
    assertEquals(SIGMA * SIGMA, variance, SIGMA * SIGMA * 0.015);
  }

  @Test
  void aGridThatIsNotAPowerOfTwo_isRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> new PolarGaussianNoise(ReproducibleRandom.of("x", 4)).addOnGrid(new float[1], 1, 1.0, 0.3));
  }
}
