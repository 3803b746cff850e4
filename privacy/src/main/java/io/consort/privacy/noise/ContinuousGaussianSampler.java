package io.consort.privacy.noise;

import io.consort.privacy.DpPreconditions;
import java.security.SecureRandom;
import java.util.Objects;

/**
 * N(0, sigma^2) from a {@link SecureRandom}, by the Marsaglia polar method on uniform doubles built from
 * 53 random bits each (every double in [0, 1) that is a multiple of 2^-53 equally likely).
 *
 * <p>Why polar rather than Box-Muller: it needs no trigonometric functions (whose last-bit behaviour
 * differs between JVM intrinsics) and only log and sqrt, which Java specifies to within 1 ulp.
 *
 * <p>Floating-point caveat: the output is a double, not a real number. Mironov 2012 ("On Significance
 * of the Least Significant Bits for Differential Privacy", CCS) showed that textbook floating-point
 * Laplace samplers leak the input through the porous set of reachable doubles; the same concern applies
 * in principle to any floating-point Gaussian. Consort uses this sampler only for record-level DP-SGD
 * inside a bank (where it matches TensorFlow Privacy and Opacus practice, and the noised value is
 * further averaged, quantised and masked before anything leaves the bank); the bank-level noise that
 * the coordinator's released sum depends on uses the exact {@link DiscreteGaussianSampler}.
 *
 * <p>Not thread-safe only in the sense that {@code SecureRandom} instances are shared; calls are
 * otherwise stateless.
 */
public final class ContinuousGaussianSampler {

  private static final double TWO_POW_MINUS_53 = 0x1.0p-53;

  private final double sigma;
  private final SecureRandom random;

  /** Production sampler with a fresh {@link SecureRandom}. */
  public ContinuousGaussianSampler(double sigma) {
    this(sigma, new SecureRandom());
  }

  /** Sampler over an injected source (tests pass a seeded {@code SecureRandom}). */
  public ContinuousGaussianSampler(double sigma, SecureRandom random) {
    this.sigma = DpPreconditions.checkSigma(sigma);
    this.random = Objects.requireNonNull(random, "random");
  }

  public double sigma() {
    return sigma;
  }

  /** One draw from N(0, sigma^2). */
  public double sample() {
    double[] pair = new double[2];
    polarPair(pair);
    return pair[0];
  }

  /** Adds independent N(0, sigma^2) noise to every coordinate of {@code values}, in place. */
  public void addNoise(double[] values) {
    double[] pair = new double[2];
    for (int i = 0; i < values.length; i += 2) {
      polarPair(pair);
      values[i] += pair[0];
      if (i + 1 < values.length) {
        values[i + 1] += pair[1];
      }
    }
  }

  /** Uniform in [0, 1) with 53 random bits: the top 53 bits of a 64-bit CSPRNG output. */
  double uniform53() {
    return (random.nextLong() >>> 11) * TWO_POW_MINUS_53;
  }

  /** Marsaglia polar: (u, v) uniform in the unit disc, both u f and v f are independent N(0, 1). */
  private void polarPair(double[] out) {
    double u;
    double v;
    double s;
    do {
      u = 2.0 * uniform53() - 1.0;
      v = 2.0 * uniform53() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = Math.sqrt(-2.0 * Math.log(s) / s);
    out[0] = sigma * u * f;
    out[1] = sigma * v * f;
  }

  @Override
  public String toString() {
    return "ContinuousGaussianSampler[sigma=" + sigma + "]";
  }
}
