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
 * in production (the rounding bits are part of what hides the input), a seeded one only in tests. Each
 * coordinate's decision reads random bytes only until they settle it, 256/255 bytes on average
 * ({@link RoundingBits}), and the rounding is exactly unbiased.
 */
public final class Quantizer {
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

  /**
   * Clips, scales and stochastically rounds {@code update}; returns values in [0, 2^k). Exactly {@link
   * #encode(double[], RandomGenerator)} of the update widened to double (every float is a double), on the
   * same random bytes, without the widened copy and with the common case of each coordinate's rounding
   * inline ({@link RoundingBits#roundAll}; {@code SecAggLargeCpu}: 5.3 -> 4.2 ms CPU at 10^6, BENCHMARKS.md).
   * The rounding stays in this loop: on the Vector API it took 3.4 ms with a 4-float vector (a float vector of
   * another shape than the dense kernel's can slow the kernel in the same JVM) and 3.9 ms with the kernel's
   * 8-float one, against 4.0 (BENCHMARKS.md, "Quantising and masking on vector lanes").
   */
  public int[] encode(float[] update, RandomGenerator random) {
    return encode(update, random, update.length, ringMask());
  }

  /**
   * {@link #encode(float[], RandomGenerator)} sign-extended to 32 bits, in the first {@code update.length} slots
   * of a new array of {@code length} (the rest zero), on the same random bytes: what a sum over a 32-bit ring
   * that puts more slots after the update takes ({@code SecureRoundPlan.combine}), without its copy and pass. A
   * quantised value q has |q| <= M < 2^(k-1), so its k-bit residue sign-extended is q itself: the rounding's
   * 32-bit result unmasked.
   *
   * @throws IllegalArgumentException if {@code length < update.length}, or as {@link #encode(float[], RandomGenerator)}
   */
  public int[] encodeSignExtended(float[] update, RandomGenerator random, int length) {
    if (length < update.length) {
      throw new IllegalArgumentException("length " + length + " leaves no room for an update of " + update.length
          + " values");
    }
    return encode(update, random, length, -1);
  }

  private int[] encode(float[] update, RandomGenerator random, int length, int mask) {
    double squaredNorm = 0;
    for (int i = 0; i < update.length; i++) {
      double value = update[i];
      if (!Double.isFinite(value)) {
        throw new IllegalArgumentException("update[" + i + "] must be finite, got " + update[i]);
      }
      squaredNorm += value * value;
    }
    int[] encoded = new int[length];
    RoundingBits bits = new RoundingBits(random);
    bits.roundAll(update, factor(squaredNorm), mask, encoded);
    bits.erase();
    return encoded;
  }

  /**
   * Clips, scales and stochastically rounds {@code update}; returns values in [0, 2^k). One coordinate at a
   * time through {@link #roundUp}: the reference the float path ({@link RoundingBits#roundAll}) is tested against.
   */
  public int[] encode(double[] update, RandomGenerator random) {
    double squaredNorm = 0;
    for (int i = 0; i < update.length; i++) {
      if (!Double.isFinite(update[i])) {
        throw new IllegalArgumentException("update[" + i + "] must be finite, got " + update[i]);
      }
      squaredNorm += update[i] * update[i];
    }
    double factor = factor(squaredNorm);
    int mask = ringMask();
    int[] encoded = new int[update.length];
    RoundingBits bits = new RoundingBits(random);
    for (int i = 0; i < update.length; i++) {
      encoded[i] = round(update[i] * factor, bits) & mask;
    }
    bits.erase();
    return encoded;
  }

  /** s * min(1, C / ||x||): what every coordinate is multiplied by before rounding. */
  private double factor(double squaredNorm) {
    double norm = Math.sqrt(squaredNorm);
    return scale * (norm > clipNorm ? clipNorm / norm : 1.0);
  }

  private int ringMask() {
    return ringBits == 32 ? -1 : (1 << ringBits) - 1;
  }

  /** {@code value} rounded stochastically to an integer, as an int (two's complement; the caller masks). */
  private static int round(double value, RoundingBits bits) {
    double floor = Math.floor(value);
    return (int) ((long) floor + roundUp(value, floor, bits));
  }

  /**
   * Whether {@code value} rounds up from {@code floor}, with probability exactly {@code value - floor}.
   * That difference is exact in floating point (Sterbenz) except for {@code value} in (-1/2, 0), where
   * {@code 1 + value} rounds (to 1.0 itself for a tiny value, which would always round up): there the
   * value rounds up to 0 unless U < -value, which is exact.
   */
  static boolean roundsUp(double value, double floor, RoundingBits bits) {
    return roundUp(value, floor, bits) == 1;
  }

  /**
   * {@link #roundsUp} as 1 or 0. The first random byte settles the comparison with probability 255/256, and
   * then its outcome is computed without a branch: a branch on a fair coin is mispredicted half the time
   * ({@code BankStageCpu}: 5.9 -> 5.3 ms CPU for 10^6 coordinates).
   */
  private static int roundUp(double value, double floor, RoundingBits bits) {
    if (floor == -1 && value > -0.5) {
      return bits.uniformBelow(-value) ? 0 : 1;
    }
    return bits.bitBelow(value - floor);
  }

  /**
   * Random bits for the rounding, drawn in bulk. {@link #uniformBelow} decides "U < fraction" for a
   * uniform real U in [0, 1) by comparing U's base-256 digits, one random byte each, with those of
   * fraction, stopping at the first digit where they differ (a lazy comparison, as in Knuth and Yao
   * 1976): the answer is true with probability exactly {@code fraction} (a double has a finite
   * expansion; once its digits are exhausted U >= fraction), and a coordinate costs 256/255 bytes on
   * average instead of the 8 of a 53-bit uniform, which also rounded with a bias of up to 2^-53.
   */
  static final class RoundingBits {
    private static final int CHUNK_BYTES = 8192;
    private final RandomGenerator random;
    private final byte[] chunk = new byte[CHUNK_BYTES];
    private int position = CHUNK_BYTES;

    RoundingBits(RandomGenerator random) {
      this.random = random;
    }

    /**
     * 1 with probability exactly {@code fraction}, else 0, for 0 <= fraction < 1: {@link #uniformBelow}
     * with the first digit compared without a branch (U's first digit is below the fraction's exactly when
     * their difference is negative).
     */
    int bitBelow(double fraction) {
      double scaled = fraction * 256; // exact: a power of two
      double digit = Math.floor(scaled);
      int first = (int) digit;
      int draw = nextByte();
      if (draw != first) {
        return (draw - first) >>> 31;
      }
      return digitsBelow(scaled - digit) ? 1 : 0;
    }

    /**
     * {@code out[i] = round(update[i] * factor) & mask} for every i, exactly as {@link #round} one coordinate
     * after the other would, on the same bytes. The common case (the first byte settles the comparison, and
     * the value is not in (-1/2, 0)) runs inline on the chunk, with no refill check per byte: the inner loop
     * stops where the chunk ends. Any other coordinate gives its byte back and goes through {@link #roundUp}.
     */
    void roundAll(float[] update, double factor, int mask, int[] out) {
      byte[] bytes = chunk;
      int n = update.length;
      int i = 0;
      while (i < n) {
        if (position == CHUNK_BYTES) {
          random.nextBytes(bytes);
          position = 0;
        }
        int p = position;
        int end = Math.min(n, i + (CHUNK_BYTES - p));
        for (; i < end; i++) {
          double value = update[i] * factor;
          double floor = Math.floor(value);
          int first = (int) ((value - floor) * 256); // value - floor in [0, 1): its first base-256 digit
          int draw = bytes[p] & 0xFF;
          if (draw == first || (floor == -1 && value > -0.5)) {
            break; // the slow path, outside this loop (inlined into it, the JIT's code is about 1.7x slower)
          }
          p++;
          out[i] = (int) ((long) floor + ((draw - first) >>> 31)) & mask;
        }
        position = p;
        if (i < end) { // coordinate i takes the slow path, reading its first byte again
          double value = update[i] * factor;
          double floor = Math.floor(value);
          out[i] = (int) ((long) floor + roundUp(value, floor, this)) & mask;
          i++;
        }
      }
    }

    /** true with probability exactly {@code fraction}, for 0 <= fraction < 1. */
    boolean uniformBelow(double fraction) {
      return digitsBelow(fraction);
    }

    private boolean digitsBelow(double fraction) {
      double rest = fraction;
      while (rest != 0) {
        double scaled = rest * 256; // exact: a power of two
        double digit = Math.floor(scaled);
        int draw = nextByte();
        if (draw != digit) {
          return draw < digit;
        }
        rest = scaled - digit; // exact: the fractional part of a double is a double
      }
      return false;
    }

    private int nextByte() {
      if (position == CHUNK_BYTES) {
        random.nextBytes(chunk); // bulk draw: one call per 8 KiB
        position = 0;
      }
      return chunk[position++] & 0xFF;
    }

    void erase() {
      java.util.Arrays.fill(chunk, (byte) 0);
    }
  }

  /**
   * Reads a ring sum as signed integers and divides by the scale: on vector lanes when the Vector API is present
   * ({@link Decoding#preferred}), the same quotients (an int is exact as a double, and a division is correctly
   * rounded on a lane as in a scalar).
   */
  public double[] decodeSum(int[] ringSum) {
    return decodeSum(ringSum, Decoding.preferred());
  }

  /** {@link #decodeSum(int[])} with the given lanes or loop (tests compare the two). */
  double[] decodeSum(int[] ringSum, Decoding decoding) {
    double[] decoded = new double[ringSum.length];
    decoding.decodeAll(ringSum, 32 - ringBits, scale, decoded);
    return decoded;
  }

  /**
   * {@code out[i] = ((ringSum[i] << shift) >> shift) / scale} for i below {@code ringSum.length}: the ring's top bit
   * moved to the sign bit and back (sign extension mod 2^k), divided by the scale.
   */
  static void decodeAllScalar(int[] ringSum, int shift, double scale, double[] out) {
    for (int i = 0; i < ringSum.length; i++) {
      out[i] = ((ringSum[i] << shift) >> shift) / scale;
    }
  }

  /** How a ring sum is read back: {@link #decodeAllScalar}, on vector lanes or in the loop. */
  interface Decoding {
    void decodeAll(int[] ringSum, int shift, double scale, double[] out);

    /** The plain loop, available everywhere: the reference for the lanes. */
    static Decoding scalar() {
      return Choice.SCALAR;
    }

    /**
     * The Vector API's ({@code VectorDecoding}), or null when this process cannot use it: jdk.incubator.vector
     * is not in the boot layer (a JDK 17 process resolves it only with {@code --add-modules}), or the platform's
     * preferred double vector has fewer than 4 lanes.
     */
    static Decoding vectorOrNull() {
      return Choice.VECTOR;
    }

    /** The lanes when present, else the plain loop. */
    static Decoding preferred() {
      return Choice.PREFERRED;
    }

    /** Holder: the choice is made once, on first use. */
    final class Choice {
      static final Decoding SCALAR = new Decoding() {
        @Override
        public void decodeAll(int[] ringSum, int shift, double scale, double[] out) {
          decodeAllScalar(ringSum, shift, scale, out);
        }

        @Override
        public String toString() {
          return "plain loop";
        }
      };
      static final Decoding VECTOR = loadVector();
      static final Decoding PREFERRED = VECTOR != null ? VECTOR : SCALAR;

      private Choice() {
      }

      private static Decoding loadVector() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
          return null;
        }
        try {
          // by name, so that nothing here links against the module's classes
          return (Decoding) Class.forName("io.consort.secagg.VectorDecoding").getDeclaredMethod("createIfUseful")
              .invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
          return null;
        }
      }
    }
  }

  /** How this process reads ring sums back: on vector lanes or in the plain loop (for benchmarks' output). */
  public static String decodingPath() {
    return Decoding.preferred().toString();
  }

  @Override
  public String toString() {
    return "Quantizer[C=" + clipNorm + ", banks=" + banks + ", k=" + ringBits + ", scale=" + scale + "]";
  }
}
