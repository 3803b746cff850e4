package io.consort.secagg.crypto;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Shamir t-of-n secret sharing (Shamir 1979) over the prime field GF(p) with
 * p = 2^256 + 297, the smallest prime above 2^256, so every 32-byte secret (a self-mask seed b_u
 * or an X25519 scalar s_u^SK, Bonawitz et al. 2017, section 4) is a field element without reduction.
 * A share is the polynomial's value at x = the holder's 1-based position in the round roster,
 * encoded as {@link #SHARE_BYTES} big-endian bytes.
 *
 * <p>Security guarantees: any t-1 shares are independent of the secret (coefficients are uniform in
 * GF(p), drawn by rejection sampling from {@link SecureRandom}); t shares determine it.
 */
public final class ShamirSharing {
  /** p = 2^256 + 297 (prime; checked by a test with 200 Miller-Rabin rounds). */
  public static final BigInteger PRIME = BigInteger.ONE.shiftLeft(256).add(BigInteger.valueOf(297));
  /** Bytes of an encoded share value: ceil(257 / 8). */
  public static final int SHARE_BYTES = 33;
  /** Bytes of a shared secret. */
  public static final int SECRET_BYTES = 32;

  /** One share: the evaluation point and the value there. */
  public record Share(int x, SecretBytes value) {
    public Share {
      if (x < 1) {
        throw new IllegalArgumentException("share x must be >= 1, got " + x);
      }
      if (value.length() != SHARE_BYTES) {
        throw new IllegalArgumentException("share value must be " + SHARE_BYTES + " bytes, got "
            + value.length());
      }
    }
  }

  private ShamirSharing() {
  }

  /** Splits a 32-byte secret into shares at the given distinct positive x-coordinates. */
  public static List<Share> split(SecretBytes secret, int threshold, int[] xs, SecureRandom random) {
    if (secret.length() != SECRET_BYTES) {
      throw new IllegalArgumentException("secret must be " + SECRET_BYTES + " bytes, got " + secret.length());
    }
    if (threshold < 1 || threshold > xs.length) {
      throw new IllegalArgumentException("threshold must be in [1, " + xs.length + "], got " + threshold);
    }
    requireDistinctPositive(xs);
    BigInteger[] coefficients = new BigInteger[threshold];
    byte[] raw = secret.toByteArray();
    coefficients[0] = new BigInteger(1, raw);
    java.util.Arrays.fill(raw, (byte) 0);
    for (int i = 1; i < threshold; i++) {
      coefficients[i] = uniformFieldElement(random);
    }
    List<Share> shares = new ArrayList<>(xs.length);
    for (int x : xs) {
      BigInteger bx = BigInteger.valueOf(x);
      BigInteger y = BigInteger.ZERO;
      for (int i = threshold - 1; i >= 0; i--) { // Horner
        y = y.multiply(bx).add(coefficients[i]).mod(PRIME);
      }
      shares.add(new Share(x, SecretBytes.adopt(toFixedBytes(y, SHARE_BYTES))));
    }
    return shares;
  }

  /**
   * Reconstructs the secret from at least {@code threshold} shares by Lagrange interpolation at 0.
   * Shares beyond the first {@code threshold} are checked against the interpolated polynomial, so a
   * corrupted share is detected whenever more than t shares are available.
   *
   * @throws IllegalArgumentException if fewer than {@code threshold} shares are given, if
   *     x-coordinates repeat, if a value is not a field element, or if extra shares disagree
   */
  public static SecretBytes reconstruct(List<Share> shares, int threshold) {
    if (threshold < 1) {
      throw new IllegalArgumentException("threshold must be >= 1, got " + threshold);
    }
    if (shares.size() < threshold) {
      throw new IllegalArgumentException("need at least " + threshold + " shares, got " + shares.size());
    }
    int[] xs = shares.stream().mapToInt(Share::x).toArray();
    requireDistinctPositive(xs);
    BigInteger[] ys = new BigInteger[shares.size()];
    for (int i = 0; i < ys.length; i++) {
      byte[] raw = shares.get(i).value().toByteArray();
      ys[i] = new BigInteger(1, raw);
      java.util.Arrays.fill(raw, (byte) 0);
      if (ys[i].compareTo(PRIME) >= 0) {
        throw new IllegalArgumentException("share at x=" + xs[i] + " is not below the field prime");
      }
    }
    Interpolation polynomial = new Interpolation(xs, ys, threshold);
    BigInteger secret = polynomial.valueAt(0);
    for (int j = threshold; j < xs.length; j++) {
      if (!polynomial.valueAt(xs[j]).equals(ys[j])) {
        throw new IllegalArgumentException("share at x=" + xs[j]
            + " is inconsistent with the other shares (corrupted or from another secret)");
      }
    }
    if (secret.bitLength() > SECRET_BYTES * 8) {
      throw new IllegalArgumentException("reconstructed value exceeds " + SECRET_BYTES
          + " bytes: the shares do not belong to one secret");
    }
    return SecretBytes.adopt(toFixedBytes(secret, SECRET_BYTES));
  }

  /**
   * The polynomial through the first {@code count} points in barycentric form: weights are computed
   * once in O(t^2), after which each evaluation costs O(t). This keeps the consistency check of the
   * extra shares cheap (O(n t) instead of O(n t^2) per secret).
   */
  private static final class Interpolation {
    private final int[] xs;
    private final BigInteger[] weightedYs;
    private final java.util.Map<Long, BigInteger> inverses = new java.util.HashMap<>();

    Interpolation(int[] allXs, BigInteger[] allYs, int count) {
      xs = java.util.Arrays.copyOf(allXs, count);
      weightedYs = new BigInteger[count];
      for (int i = 0; i < count; i++) {
        BigInteger denominator = BigInteger.ONE;
        for (int j = 0; j < count; j++) {
          if (j != i) {
            denominator = denominator.multiply(BigInteger.valueOf((long) xs[i] - xs[j])).mod(PRIME);
          }
        }
        weightedYs[i] = allYs[i].multiply(denominator.modInverse(PRIME)).mod(PRIME);
      }
    }

    /** L(z) = prod_j (z - x_j) * sum_i (y_i w_i / (z - x_i)), for z not among the x_i. */
    BigInteger valueAt(long z) {
      BigInteger product = BigInteger.ONE;
      BigInteger sum = BigInteger.ZERO;
      for (int i = 0; i < xs.length; i++) {
        long difference = z - xs[i];
        product = product.multiply(BigInteger.valueOf(difference)).mod(PRIME);
        sum = sum.add(weightedYs[i].multiply(inverse(difference)));
      }
      return product.multiply(sum.mod(PRIME)).mod(PRIME);
    }

    private BigInteger inverse(long value) {
      return inverses.computeIfAbsent(value, v -> BigInteger.valueOf(v).mod(PRIME).modInverse(PRIME));
    }
  }

  private static BigInteger uniformFieldElement(SecureRandom random) {
    BigInteger candidate;
    do {
      candidate = new BigInteger(PRIME.bitLength(), random);
    } while (candidate.compareTo(PRIME) >= 0);
    return candidate;
  }

  private static void requireDistinctPositive(int[] xs) {
    Set<Integer> seen = new HashSet<>();
    for (int x : xs) {
      if (x < 1) {
        throw new IllegalArgumentException("share x-coordinates must be >= 1, got " + x);
      }
      if (!seen.add(x)) {
        throw new IllegalArgumentException("share x-coordinate " + x + " appears twice");
      }
    }
  }

  /** Decodes a share value from the wire, refusing the wrong length or a value outside the field. */
  public static SecretBytes decodeShareValue(byte[] encoded) {
    if (encoded.length != SHARE_BYTES) {
      throw new IllegalArgumentException("share value must be " + SHARE_BYTES + " bytes, got " + encoded.length);
    }
    if (new BigInteger(1, encoded).compareTo(PRIME) >= 0) {
      throw new IllegalArgumentException("share value is not below the field prime 2^256 + 297");
    }
    return SecretBytes.copyOf(encoded);
  }

  private static byte[] toFixedBytes(BigInteger value, int length) {
    byte[] raw = value.toByteArray();
    byte[] out = new byte[length];
    int copy = Math.min(raw.length, length);
    System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
    return out;
  }
}
