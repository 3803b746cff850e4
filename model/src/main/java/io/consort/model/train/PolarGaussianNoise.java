package io.consort.model.train;

import java.util.random.RandomGenerator;

/**
 * Marsaglia's polar method (1964): two uniforms in the unit disc give two independent standard
 * normals with one logarithm and one square root and no trigonometry, about twice as fast as
 * Box-Muller here. Package-private: production code obtains it through
 * {@link GaussianNoise#secure()} so that the uniforms always come from SecureRandom; tests in this
 * package may pass a seeded generator.
 */
final class PolarGaussianNoise implements GaussianNoise {
  private static final double TWO_TO_MINUS_53 = 0x1.0p-53;
  private final RandomGenerator uniforms;
  private double spare;
  private boolean hasSpare;

  PolarGaussianNoise(RandomGenerator uniforms) {
    this.uniforms = uniforms;
  }

  @Override
  public double sample(double sigma) {
    return sigma * standardNormal();
  }

  private double standardNormal() {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    double u;
    double v;
    double s;
    do {
      u = 2 * ((uniforms.nextLong() >>> 11) * TWO_TO_MINUS_53) - 1;
      v = 2 * ((uniforms.nextLong() >>> 11) * TWO_TO_MINUS_53) - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    double factor = Math.sqrt(-2 * Math.log(s) / s);
    spare = v * factor;
    hasSpare = true;
    return u * factor;
  }
}
