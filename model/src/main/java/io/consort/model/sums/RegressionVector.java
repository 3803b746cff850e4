package io.consort.model.sums;

import io.consort.model.eval.RegressionTotals;

/**
 * A bank's regression evaluation as a secure-sum vector: the row count, then the summed squared
 * error, absolute error, label and squared label, each in units of the declared label bound (squared
 * terms divided by {@code bound^2}, linear ones by {@code bound}). Because labels and predictions are
 * clipped to the bound first, every scaled term of a row lies in {@code [-4, 4]}, so a bank's scaled
 * sum is below {@code 4 * 2^48 = 2^50} for any row count a count slot carries, far inside the
 * fixed-point range ({@code |v| < 2^59}): the encoding cannot overflow whatever the bound or the data.
 */
public final class RegressionVector {
  private RegressionVector() {}

  public static int length() {
    return Limbs.COUNT_LIMBS + 4 * Limbs.FIXED_LIMBS;
  }

  public static int[] encode(RegressionTotals t) {
    double b = t.bound();
    double b2 = b * b;
    return new Limbs.Writer(length()).count("rows", t.rows())
        .fixed("squared error sum", t.squaredErrorSum() / b2)
        .fixed("absolute error sum", t.absoluteErrorSum() / b)
        .fixed("label sum", t.labelSum() / b)
        .fixed("squared label sum", t.squaredLabelSum() / b2)
        .finish();
  }

  /**
   * The consortium's totals from the secure sum of {@code banks} vectors encoded under {@code bound}.
   *
   * @throws IllegalArgumentException when the sum is not one of vectors of clipped rows (its totals
   *     outside {@link RegressionTotals#withinRowBounds}): a bank put other values into its slots, for
   *     instance a negative squared error to make the pooled RMSE look smaller
   */
  public static RegressionTotals decode(double bound, int[] sum, int banks) {
    if (sum.length != length()) {
      throw new IllegalArgumentException("the sum has " + sum.length + " slots but a regression evaluation takes "
          + length());
    }
    Limbs.Reader r = new Limbs.Reader(sum, banks);
    double b2 = bound * bound;
    long rows = r.count();
    double squared = r.fixed() * b2;
    double absolute = r.fixed() * bound;
    double labels = r.fixed() * bound;
    double squaredLabels = r.fixed() * b2;
    r.requireEnd();
    RegressionTotals totals = new RegressionTotals(bound, rows, squared, absolute, labels, squaredLabels);
    if (!totals.withinRowBounds()) {
      throw new IllegalArgumentException("the regression evaluation's sums (squared error " + squared + ", absolute "
          + "error " + absolute + ", labels " + labels + ", squared labels " + squaredLabels + ") are not what " + rows
          + " rows clipped to " + bound + " give");
    }
    return totals;
  }
}
