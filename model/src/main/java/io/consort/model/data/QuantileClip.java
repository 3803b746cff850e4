package io.consort.model.data;

/**
 * Clipping of a numeric column's observed values to the consortium's quantiles, read from the banks'
 * securely summed histograms ({@link QuantileGrid}), so that one bank's
 * extreme values do not dominate the column's scaling.
 *
 * @param lower the lower quantile, in [0, 0.5)
 * @param upper the upper quantile, in (0.5, 1]
 */
public record QuantileClip(double lower, double upper) {
  public QuantileClip {
    if (!(lower >= 0 && lower < 0.5) || !(upper > 0.5 && upper <= 1)) {
      throw new IllegalArgumentException("clip quantiles must be a lower one in [0, 0.5) and an upper one in "
          + "(0.5, 1], got [" + lower + ", " + upper + "]");
    }
  }
}
