package io.consort.model.data;

/**
 * The one grid of histogram bins every bank sorts a numeric column's values into, so that the
 * banks' histograms can be summed (securely) and the consortium's quantiles read from the sum, never
 * from any bank's raw values. The grid is fixed in code, not chosen from data or by the coordinator:
 * a coordinator cannot narrow a bin around one customer's value.
 *
 * <p>Bins are logarithmic in the magnitude, {@value #BINS_PER_DECADE} per decade from {@code 1e-6}
 * to {@code 1e15}, mirrored for negative values, with one bin for {@code |v| < 1e-6}: {@value #BINS}
 * bins, each about 2.3% of its values' magnitude wide, so the same relative resolution holds for an
 * age, an income or a ratio. Magnitudes of {@code 1e15} and more fall in the outermost bins.
 */
public final class QuantileGrid {
  public static final int BINS_PER_DECADE = 100;
  private static final int LOWEST_DECADE = -6;
  private static final int HIGHEST_DECADE = 15;
  /** Magnitude bins on each side of zero. */
  private static final int MAGNITUDES = (HIGHEST_DECADE - LOWEST_DECADE) * BINS_PER_DECADE;
  /** Negative magnitudes, the zero bin, positive magnitudes. */
  public static final int BINS = 2 * MAGNITUDES + 1;
  private static final int ZERO = MAGNITUDES;
  private static final double SMALLEST = Math.pow(10, LOWEST_DECADE);

  private QuantileGrid() {}

  /** The bin of a finite value. */
  public static int bin(double value) {
    double magnitude = Math.abs(value);
    if (magnitude < SMALLEST) {
      return ZERO;
    }
    int m = (int) Math.floor((Math.log10(magnitude) - LOWEST_DECADE) * BINS_PER_DECADE);
    m = Math.max(0, Math.min(MAGNITUDES - 1, m));
    // the float computation of log10 can put a value just past its bin's edge: the edges decide
    double low = magnitudeEdge(m);
    if (magnitude < low && m > 0) {
      m--;
    } else if (m < MAGNITUDES - 1 && magnitude >= magnitudeEdge(m + 1)) {
      m++;
    }
    return value > 0 ? ZERO + 1 + m : ZERO - 1 - m;
  }

  /** The lower edge of bin {@code bin} (the zero bin: {@code -1e-6}). */
  public static double lowerEdge(int bin) {
    check(bin);
    if (bin == ZERO) {
      return -SMALLEST;
    }
    return bin > ZERO ? magnitudeEdge(bin - ZERO - 1) : -magnitudeEdge(ZERO - bin);
  }

  /** The upper edge of bin {@code bin} (the zero bin: {@code 1e-6}). */
  public static double upperEdge(int bin) {
    check(bin);
    if (bin == ZERO) {
      return SMALLEST;
    }
    return bin > ZERO ? magnitudeEdge(bin - ZERO) : -magnitudeEdge(ZERO - bin - 1);
  }

  /** Whether {@code value} is exactly an edge of the grid (what a clip bound must be). */
  public static boolean isEdge(double value) {
    if (!Double.isFinite(value)) {
      return false;
    }
    int b = bin(value);
    for (int candidate = Math.max(0, b - 1); candidate <= Math.min(BINS - 1, b + 1); candidate++) {
      if (lowerEdge(candidate) == value || upperEdge(candidate) == value) {
        return true;
      }
    }
    return false;
  }

  /** 10^(LOWEST_DECADE + m / BINS_PER_DECADE), for m in [0, MAGNITUDES]. */
  private static double magnitudeEdge(int m) {
    return Math.pow(10, LOWEST_DECADE + (double) m / BINS_PER_DECADE);
  }

  private static void check(int bin) {
    if (bin < 0 || bin >= BINS) {
      throw new IllegalArgumentException("bin " + bin + " is outside the grid's " + BINS + " bins");
    }
  }

  /**
   * The {@code q}-quantile of the values counted in {@code counts}, interpolated linearly inside the bin
   * where the cumulative count reaches {@code q} of the total (0 in the bin of {@code |v| < 1e-6}, where
   * bank data's values are zeros). Its error is at most that bin's width.
   *
   * @throws IllegalArgumentException when the histogram is empty
   */
  public static double quantile(long[] counts, double q) {
    int bin = quantileBin(counts, q);
    if (bin == ZERO) {
      return 0;
    }
    long total = total(counts);
    double target = q * total;
    long before = 0;
    for (int b = 0; b < bin; b++) {
      before += counts[b];
    }
    double fraction = counts[bin] == 0 ? 0.5 : Math.max(0, Math.min(1, (target - before) / counts[bin]));
    return lowerEdge(bin) + fraction * (upperEdge(bin) - lowerEdge(bin));
  }

  /** The lower edge of the bin holding the {@code q}-quantile: a clip bound that clips no value above it. */
  public static double lowerClip(long[] counts, double q) {
    return lowerEdge(quantileBin(counts, q));
  }

  /** The upper edge of the bin holding the {@code q}-quantile: a clip bound that clips no value below it. */
  public static double upperClip(long[] counts, double q) {
    return upperEdge(quantileBin(counts, q));
  }

  /** The first non-empty bin where the cumulative count reaches {@code q} of the total. */
  static int quantileBin(long[] counts, double q) {
    if (counts.length != BINS) {
      throw new IllegalArgumentException("a histogram of " + counts.length + " bins, the grid has " + BINS);
    }
    if (!(q >= 0 && q <= 1)) {
      throw new IllegalArgumentException("quantile must be in [0, 1], got " + q);
    }
    long total = total(counts);
    if (total == 0) {
      throw new IllegalArgumentException("no value to take a quantile of");
    }
    double target = q * total;
    long cumulative = 0;
    for (int b = 0; b < counts.length; b++) {
      cumulative += counts[b];
      if (counts[b] > 0 && cumulative >= target) {
        return b;
      }
    }
    throw new IllegalStateException("unreachable: the cumulative count reaches the total");
  }

  public static long total(long[] counts) {
    long total = 0;
    for (long c : counts) {
      if (c < 0) {
        throw new IllegalArgumentException("a histogram count is negative: " + c);
      }
      total = Math.addExact(total, c);
    }
    return total;
  }
}
