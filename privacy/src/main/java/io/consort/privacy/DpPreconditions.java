package io.consort.privacy;

/**
 * Every validation of a differential-privacy parameter, in one place and with one message template
 * ({@code "<name> must be <rule>, got <value>"}), in the manner of Google's differential-privacy
 * library. NaN and infinities are rejected explicitly: a NaN compares false with everything, so a
 * check written as {@code x <= 0} alone would let it through and the accountant would then report a
 * NaN epsilon, which a budget comparison treats as "within budget".
 */
public final class DpPreconditions {

  private DpPreconditions() {}

  /** epsilon must be finite and strictly positive. */
  public static double checkEpsilon(double epsilon) {
    return checkFinitePositive("epsilon", epsilon);
  }

  /** delta must lie in the open interval (0, 1): delta = 0 makes RDP conversion infinite, delta >= 1 is vacuous. */
  public static double checkDelta(double delta) {
    if (Double.isNaN(delta) || !(delta > 0.0 && delta < 1.0)) {
      throw new IllegalArgumentException(message("delta", "in (0, 1)", delta));
    }
    return delta;
  }

  /** The noise multiplier z (noise standard deviation divided by the L2 sensitivity). */
  public static double checkNoiseMultiplier(double noiseMultiplier) {
    return checkFinitePositive("noise multiplier", noiseMultiplier);
  }

  /** The L2 clipping norm C, which is the sensitivity of a clipped sum. */
  public static double checkClipNorm(double clipNorm) {
    return checkFinitePositive("clip norm", clipNorm);
  }

  /** A noise standard deviation sigma. */
  public static double checkSigma(double sigma) {
    return checkFinitePositive("sigma", sigma);
  }

  /** The Poisson sampling rate q must lie in (0, 1]; q = 1 means every record (or bank) takes part. */
  public static double checkSamplingRate(double samplingRate) {
    if (Double.isNaN(samplingRate) || !(samplingRate > 0.0 && samplingRate <= 1.0)) {
      throw new IllegalArgumentException(message("sampling rate", "in (0, 1]", samplingRate));
    }
    return samplingRate;
  }

  /** Number of composed steps (or rounds); at least one. */
  public static long checkSteps(long steps) {
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be >= 1, got " + steps);
    }
    return steps;
  }

  /** A Rényi order alpha must be finite and > 1. */
  public static double checkOrder(double order) {
    if (Double.isNaN(order) || Double.isInfinite(order) || !(order > 1.0)) {
      throw new IllegalArgumentException(message("RDP order", "finite and > 1", order));
    }
    return order;
  }

  /** A generic finite, strictly positive parameter; {@code name} appears in the message. */
  public static double checkFinitePositive(String name, double value) {
    if (Double.isNaN(value) || Double.isInfinite(value) || !(value > 0.0)) {
      throw new IllegalArgumentException(message(name, "finite and > 0", value));
    }
    return value;
  }

  /** A generic finite, non-negative parameter (for example an epsilon already spent). */
  public static double checkFiniteNonNegative(String name, double value) {
    if (Double.isNaN(value) || Double.isInfinite(value) || !(value >= 0.0)) {
      throw new IllegalArgumentException(message(name, "finite and >= 0", value));
    }
    return value;
  }

  /** A positive integer count such as a number of banks or rows. */
  public static long checkPositiveCount(String name, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, got " + value);
    }
    return value;
  }

  private static String message(String name, String rule, double value) {
    return name + " must be " + rule + ", got " + value;
  }
}
