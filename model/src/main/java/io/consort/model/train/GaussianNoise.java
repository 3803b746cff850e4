package io.consort.model.train;

/**
 * A source of Gaussian noise for DP-SGD.
 *
 * <p>Security guarantees: the production implementation, {@link #secure()}, draws every bit from
 * {@link java.security.SecureRandom}, so noise cannot be predicted or replayed from a seed. It
 * samples in double precision and rounds to float; it does not defend against the floating-point
 * attacks of Mironov (CCS 2012) on textbook samplers. The privacy module's sampler can be plugged in
 * through this interface.
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

  /** Gaussian noise from a SecureRandom DRBG; not thread-safe, one instance per trainer. */
  static GaussianNoise secure() {
    return new PolarGaussianNoise(BufferedSecureRandom.create());
  }
}
