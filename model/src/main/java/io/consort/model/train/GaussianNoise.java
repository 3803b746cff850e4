package io.consort.model.train;

/**
 * A source of Gaussian noise for DP-SGD.
 *
 * <p>Security guarantees: the production implementation, {@link #secure()}, draws every bit from
 * {@link java.security.SecureRandom}, so noise cannot be predicted or replayed from a seed. It
 * samples in double precision. Textbook floating-point samplers leak (Mironov, CCS 2012): the set of
 * doubles that {@code x + noise} can reach depends on {@code x}, so an output can rule inputs out.
 * {@link #addOnGrid} closes that channel: the value and the noise are each rounded to one fixed
 * power-of-two grid, far finer than the noise but far coarser than double resolution, so the output
 * is the input's grid point shifted by an integer number of grid steps drawn without reference to the
 * input, and every grid point is reachable from every input (see docs/PRIVACY.md).
 */
public interface GaussianNoise {

  /** One sample of N(0, sigma^2). */
  double sample(double sigma);

  /** Adds independent N(0, sigma^2) samples to {@code target[0..length-1]}. */
  default void addTo(float[] target, int length, double sigma) {
    for (int i = 0; i < length; i++) {
      target[i] += (float) sample(sigma);
    }
  }

  /**
   * Rounds {@code target[0..length-1]} to multiples of {@code grid} and adds N(0, sigma^2) noise
   * rounded to the same grid, in double, then stores the result in float (a data-independent
   * rounding of a grid value: post-processing). {@code grid} must be a power of two; rounding the
   * input moves each value by at most grid / 2, which the caller's sensitivity must cover.
   */
  default void addOnGrid(float[] target, int length, double sigma, double grid) {
    if (!(grid > 0) || Math.scalb(1.0, Math.getExponent(grid)) != grid) {
      throw new IllegalArgumentException("grid must be a positive power of two, got " + grid);
    }
    // The same arithmetic as onGrid, bit for bit: scaling by a power of two is exact, so
    // value * (1 / grid) == value / grid and (sigma / grid) * z == (sigma * z) / grid; multiplying
    // saves two divisions per coordinate (a noticeable part of a 10^6-parameter step).
    double steps = 1.0 / grid;
    double sigmaInSteps = sigma * steps;
    for (int i = 0; i < length; i++) {
      target[i] = (float) ((Math.rint(target[i] * steps) + Math.rint(sample(sigmaInSteps))) * grid);
    }
  }

  /**
   * {@code value} rounded to the grid plus N(0, sigma^2) noise rounded to the grid, exactly (in double:
   * both are whole numbers of grid steps far below 2^53). The noise steps are drawn without reference
   * to {@code value}.
   */
  default double onGrid(double value, double sigma, double grid) {
    double steps = Math.rint(sample(sigma) / grid);
    return (Math.rint(value / grid) + steps) * grid;
  }

  /**
   * The grid {@link #addOnGrid} uses for noise on a sum of {@code dimension} values clipped to
   * {@code clipNorm}: the largest power of two whose rounding error over all coordinates,
   * {@code grid * sqrt(dimension) / 2} for the input alone, stays below {@code clipNorm * 1e-6}, so
   * that the clip's margin ({@code DenseNetwork.CLIP_MARGIN}) covers it.
   */
  static double gridFor(double clipNorm, int dimension) {
    double limit = clipNorm * 1e-6 / Math.sqrt(Math.max(1, dimension));
    return Math.scalb(1.0, Math.getExponent(limit));
  }

  /**
   * Gaussian noise from a {@link io.consort.model.random.BulkSecureRandom} (AES-256-CTR with fast key
   * erasure, keyed and periodically reseeded from the JDK's SP 800-90A DRBG), read through an 8 KiB
   * buffer that erases each value as it hands it out, turned into normals by the JDK's ziggurat
   * ({@link ZigguratGaussianNoise}; Marsaglia's polar method on a JDK before 17.0.4, whose ziggurat
   * did not sample the normal); not thread-safe, one instance per trainer.
   */
  static GaussianNoise secure() {
    BufferedSecureRandom uniforms = BufferedSecureRandom.create();
    return ZigguratGaussianNoise.exactOn(Runtime.version()) ? new ZigguratGaussianNoise(uniforms)
        : new PolarGaussianNoise(uniforms);
  }
}
