package io.consort.model.features;

import io.consort.model.data.QuantileGrid;
import java.util.Arrays;

/**
 * Counts of a numeric column's observed values in the bins of the {@link QuantileGrid}: what a bank
 * contributes (only inside the statistics' secure sum) so that the consortium's median and clip
 * quantiles come from the summed histogram. Immutable.
 */
public final class QuantileHistogram {
  private final long[] counts;

  public QuantileHistogram(long[] counts) {
    if (counts.length != QuantileGrid.BINS) {
      throw new IllegalArgumentException("a quantile histogram has " + QuantileGrid.BINS + " bins, got "
          + counts.length);
    }
    QuantileGrid.total(counts);
    this.counts = counts.clone();
  }

  /** A copy of the counts, one per bin of the grid. */
  public long[] counts() {
    return counts.clone();
  }

  public long total() {
    return QuantileGrid.total(counts);
  }

  /** The interpolated {@code q}-quantile ({@link QuantileGrid#quantile}). */
  public double quantile(double q) {
    return QuantileGrid.quantile(counts, q);
  }

  long count(int bin) {
    return counts[bin];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof QuantileHistogram h && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(counts);
  }

  @Override
  public String toString() {
    return "QuantileHistogram[" + total() + " values]";
  }
}
