package io.consort.model.sums;

import java.math.BigInteger;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * Values as 16-bit limbs in 32-bit slots. A count takes {@value #COUNT_LIMBS} limbs (up to 2^48); a
 * real value takes {@value #FIXED_LIMBS} limbs: {@code round(v * 2^20) + 2^79}, so |v| < 2^59 (about
 * 5.8e17) with a resolution of about 1e-6. Any number of banks up to {@value #MAX_BANKS} can be
 * summed slot by slot in Z_2^32 without wrapping; {@link Reader} rebuilds the exact totals.
 */
public final class Limbs {
  public static final int LIMB_BITS = 16;
  public static final int COUNT_LIMBS = 3;
  public static final int FIXED_LIMBS = 5;
  public static final int FRACTION_BITS = 20;
  /** Sums of this many banks' limbs (each below 2^16) stay below 2^32. */
  public static final int MAX_BANKS = 1 << 16;
  private static final BigInteger OFFSET = BigInteger.ONE.shiftLeft(FIXED_LIMBS * LIMB_BITS - 1);
  private static final double MAX_FIXED = Math.scalb(1.0, FIXED_LIMBS * LIMB_BITS - 1 - FRACTION_BITS);
  private static final long MAX_COUNT = 1L << (COUNT_LIMBS * LIMB_BITS);
  private static final int LIMB_MASK = (1 << LIMB_BITS) - 1;
  private static final BigDecimal SCALE = BigDecimal.valueOf(1L << FRACTION_BITS);

  private Limbs() {}

  /** Writes values into a vector of known length; each {@code put} names the value for its errors. */
  public static final class Writer {
    private final int[] out;
    private int next;

    public Writer(int length) {
      this.out = new int[length];
    }

    public Writer count(String what, long value) {
      if (value < 0 || value >= MAX_COUNT) {
        throw new IllegalArgumentException(what + " must be in [0, 2^48) for a secure sum, got " + value);
      }
      for (int k = 0; k < COUNT_LIMBS; k++) {
        out[next++] = (int) ((value >>> (k * LIMB_BITS)) & LIMB_MASK);
      }
      return this;
    }

    public Writer fixed(String what, double value) {
      if (!Double.isFinite(value) || Math.abs(value) >= MAX_FIXED) {
        throw new IllegalArgumentException(what + " is " + value + ", outside what a secure sum carries (|v| < "
            + MAX_FIXED + "); rescale the column");
      }
      // exact: the double's binary value times 2^20, rounded half-even, then offset to be non-negative
      BigInteger shifted = new BigDecimal(value).multiply(SCALE).setScale(0, RoundingMode.HALF_EVEN)
          .toBigIntegerExact().add(OFFSET);
      for (int k = 0; k < FIXED_LIMBS; k++) {
        out[next++] = shifted.shiftRight(k * LIMB_BITS).intValue() & LIMB_MASK;
      }
      return this;
    }

    public int[] finish() {
      if (next != out.length) {
        throw new IllegalStateException("wrote " + next + " of " + out.length + " slots");
      }
      return out;
    }
  }

  /** Reads the totals back from a slot-by-slot sum of {@code banks} vectors. */
  public static final class Reader {
    private final int[] sum;
    private final int banks;
    private int next;

    public Reader(int[] sum, int banks) {
      if (banks < 1 || banks > MAX_BANKS) {
        throw new IllegalArgumentException("a sum of 1 to " + MAX_BANKS + " banks, got " + banks);
      }
      this.sum = sum.clone();
      this.banks = banks;
    }

    public long count() {
      BigInteger total = limbs(COUNT_LIMBS);
      return total.longValueExact();
    }

    public double fixed() {
      BigInteger total = limbs(FIXED_LIMBS).subtract(OFFSET.multiply(BigInteger.valueOf(banks)));
      return Math.scalb(total.doubleValue(), -FRACTION_BITS);
    }

    public void requireEnd() {
      if (next != sum.length) {
        throw new IllegalArgumentException("the sum has " + sum.length + " slots, the layout " + next);
      }
    }

    private BigInteger limbs(int count) {
      if (next + count > sum.length) {
        throw new IllegalArgumentException("the sum has " + sum.length + " slots, fewer than its layout needs");
      }
      BigInteger total = BigInteger.ZERO;
      for (int k = 0; k < count; k++) {
        total = total.add(BigInteger.valueOf(Integer.toUnsignedLong(sum[next + k])).shiftLeft(k * LIMB_BITS));
      }
      next += count;
      return total;
    }
  }

  /** Slot-by-slot sum in Z_2^32, as secure aggregation computes it. */
  public static int[] sum(List<int[]> vectors) {
    int[] total = new int[vectors.get(0).length];
    for (int[] v : vectors) {
      if (v.length != total.length) {
        throw new IllegalArgumentException("vectors of " + total.length + " and " + v.length + " slots");
      }
      for (int i = 0; i < v.length; i++) {
        total[i] += v[i];
      }
    }
    return total;
  }

}
