package io.consort.secagg;

import java.util.random.RandomGenerator;

/**
 * Turns a float update into ring elements for secure aggregation and the ring sum back into floats.
 *
 * <p>Encoding (per bank): clip the update to L2 norm at most C (scale it by min(1, C/||x||)), multiply
 * by the scale s, and round each coordinate stochastically: up with probability equal to its
 * fractional part, so the rounding is unbiased, E[q_i] = s * x_i (Kairouz, Liu, Steinke 2021,
 * section 4, "randomized rounding"). The result is stored modulo 2^k in two's complement.
 *
 * <p>No wrap-around. After clipping every |x_i| <= C, so |q_i| <= s*C + 1 = M, where
 * M = floor((2^(k-1) - 1) / n) and s = (M - 1) / C. The sum of n banks then stays within
 * [-(2^(k-1) - 1), 2^(k-1) - 1] and is recovered exactly from its residue mod 2^k.
 *
 * <p>Error bound. For the decoded sum S' against the exact sum S of the clipped updates of n banks:
 * every coordinate satisfies |S'_i - S_i| < n / s (each bank's rounding moves a coordinate by less
 * than one quantisation step 1/s), hence ||S' - S||_2 < n * sqrt(D) / s; the rounding is unbiased and
 * E||S' - S||_2^2 <= n * D / (4 s^2). With k = 32, n = 10, C = 1: n / s is about 4.7e-8. Clipping is
 * a deliberate change of the update, not part of this bound; decoding in double adds at most one
 * rounding of a double per coordinate.
 *
 * <p>Randomness for the rounding comes from the injected generator: a {@link java.security.SecureRandom}
 * in production (the rounding bits are part of what hides the input), a seeded one only in tests.
 */
public final class Quantizer {
  private static final int ROUNDING_CHUNK = 8192;

  private final double clipNorm;
  private final int banks;
  private final int ringBits;
  private final double scale;

  /**
   * @param clipNorm C > 0, the L2 norm every update is clipped to
   * @param banks n >= 1, the largest number of banks whose updates may be summed
   * @param ringBits k in [2, 32], as in {@link RoundParameters#ringBits()}
   */
  public Quantizer(double clipNorm, int banks, int ringBits) {
    if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
      throw new IllegalArgumentException("clipNorm must be finite and > 0, got " + clipNorm);
    }
    if (banks < 1) {
      throw new IllegalArgumentException("banks must be >= 1, got " + banks);
    }
    if (ringBits < 2 || ringBits > 32) {
      throw new IllegalArgumentException("ringBits must be in [2, 32], got " + ringBits);
    }
    long perBankMagnitude = ((1L << (ringBits - 1)) - 1) / banks;
    if (perBankMagnitude < 2) {
      throw new IllegalArgumentException("ringBits " + ringBits + " leave no room for " + banks
          + " banks: need (2^(k-1) - 1) / banks >= 2");
    }
    this.clipNorm = clipNorm;
    this.banks = banks;
    this.ringBits = ringBits;
    this.scale = (perBankMagnitude - 1) / clipNorm;
  }

  /** s: quantised units per unit of the update. */
  public double scale() {
    return scale;
  }

  /** n / s: the bound on |decoded sum - exact clipped sum| per coordinate, for {@code banks} banks. */
  public double perCoordinateErrorBound(int summedBanks) {
    return summedBanks / scale;
  }

  /** n * sqrt(D) / s: the worst-case L2 bound on the error of the decoded sum. */
  public double l2ErrorBound(int summedBanks, int dimension) {
    return summedBanks * Math.sqrt(dimension) / scale;
  }

  /** Clips, scales and stochastically rounds {@code update}; returns values in [0, 2^k). */
  public int[] encode(float[] update, RandomGenerator random) {
    double[] widened = new double[update.length];
    for (int i = 0; i < update.length; i++) {
      widened[i] = update[i];
    }
    return encode(widened, random);
  }

  /** Clips, scales and stochastically rounds {@code update}; returns values in [0, 2^k). */
  public int[] encode(double[] update, RandomGenerator random) {
    double squaredNorm = 0;
    for (int i = 0; i < update.length; i++) {
      if (!Double.isFinite(update[i])) {
        throw new IllegalArgumentException("update[" + i + "] must be finite, got " + update[i]);
      }
      squaredNorm += update[i] * update[i];
    }
    double norm = Math.sqrt(squaredNorm);
    double factor = scale * (norm > clipNorm ? clipNorm / norm : 1.0);
    int mask = ringBits == 32 ? -1 : (1 << ringBits) - 1;
    int[] encoded = new int[update.length];
    byte[] bits = new byte[ROUNDING_CHUNK * Long.BYTES];
    java.nio.LongBuffer uniforms = java.nio.ByteBuffer.wrap(bits).asLongBuffer();
    for (int start = 0; start < update.length; start += ROUNDING_CHUNK) {
      random.nextBytes(bits); // bulk draw: one call per chunk, not one per coordinate
      int end = Math.min(update.length, start + ROUNDING_CHUNK);
      for (int i = start; i < end; i++) {
        double value = update[i] * factor;
        double floor = Math.floor(value);
        double uniform = (uniforms.get(i - start) >>> 11) * 0x1.0p-53; // 53 random bits in [0, 1)
        long rounded = (long) floor + (uniform < value - floor ? 1 : 0);
        encoded[i] = (int) rounded & mask;
      }
    }
    java.util.Arrays.fill(bits, (byte) 0);
    return encoded;
  }

  /** Reads a ring sum as signed integers and divides by the scale. */
  public double[] decodeSum(int[] ringSum) {
    double[] decoded = new double[ringSum.length];
    long modulus = 1L << ringBits;
    long half = modulus >>> 1;
    for (int i = 0; i < ringSum.length; i++) {
      long value = Integer.toUnsignedLong(ringSum[i]) & (modulus - 1);
      decoded[i] = (value >= half ? value - modulus : value) / scale;
    }
    return decoded;
  }

  @Override
  public String toString() {
    return "Quantizer[C=" + clipNorm + ", banks=" + banks + ", k=" + ringBits + ", scale=" + scale + "]";
  }
}
