package io.consort.model.eval;

/**
 * A regression evaluation as sums over held-out rows, with every label and prediction clipped to
 * {@code [-bound, bound]} first: the row count, the summed squared and absolute errors, and the
 * summed label and squared label (for R^2 against the label's own mean). Sums of several banks add
 * field by field, so the consortium's RMSE, MAE and R^2 come from the summed totals alone. One row
 * moves the sums by at most 1, {@code 4 bound^2}, {@code 2 bound}, {@code bound} and {@code bound^2}.
 *
 * @param bound the declared label range the values were clipped to, positive and finite
 */
public record RegressionTotals(double bound, long rows, double squaredErrorSum, double absoluteErrorSum,
                               double labelSum, double squaredLabelSum) {
  public RegressionTotals {
    if (!(bound > 0) || !Double.isFinite(bound)) {
      throw new IllegalArgumentException("the label bound must be positive and finite, got " + bound);
    }
    if (rows < 0) {
      throw new IllegalArgumentException("rows must be non-negative, got " + rows);
    }
    requireFinite("squared error sum", squaredErrorSum);
    requireFinite("absolute error sum", absoluteErrorSum);
    requireFinite("label sum", labelSum);
    requireFinite("squared label sum", squaredLabelSum);
  }

  private static void requireFinite(String what, double v) {
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException(what + " must be finite, got " + v);
    }
  }

  /** The totals of {@code predictions} against {@code labels}, each clipped to {@code [-bound, bound]}. */
  public static RegressionTotals of(double bound, float[] predictions, float[] labels) {
    if (predictions.length != labels.length) {
      throw new IllegalArgumentException(predictions.length + " predictions for " + labels.length + " labels");
    }
    new RegressionTotals(bound, 0, 0, 0, 0, 0); // validates the bound before any row is read
    double sq = 0;
    double abs = 0;
    double y = 0;
    double y2 = 0;
    for (int i = 0; i < labels.length; i++) {
      double label = clip(labels[i], bound);
      double error = clip(predictions[i], bound) - label;
      sq += error * error;
      abs += Math.abs(error);
      y += label;
      y2 += label * label;
    }
    return new RegressionTotals(bound, labels.length, sq, abs, y, y2);
  }

  /** {@code v} clipped to {@code [-bound, bound]}; NaN (a diverged model) counts as the far end. */
  static double clip(double v, double bound) {
    if (Double.isNaN(v)) {
      return bound;
    }
    return Math.max(-bound, Math.min(bound, v));
  }

  /** Field-by-field sum with another bank's totals under the same bound. */
  public RegressionTotals plus(RegressionTotals other) {
    if (other.bound != bound) {
      throw new IllegalArgumentException("totals under bounds " + bound + " and " + other.bound);
    }
    return new RegressionTotals(bound, rows + other.rows, squaredErrorSum + other.squaredErrorSum,
        absoluteErrorSum + other.absoluteErrorSum, labelSum + other.labelSum, squaredLabelSum + other.squaredLabelSum);
  }

  /**
   * Whether every sum lies within what {@code rows} clipped rows allow, up to float rounding: squared
   * error in {@code [0, 4 bound^2 rows]}, absolute error in {@code [0, 2 bound rows]}, labels in
   * {@code [-bound rows, bound rows]}, squared labels in {@code [0, bound^2 rows]}. Totals a bank (or,
   * under secure aggregation, the banks together) reported outside these were not computed from
   * clipped rows; within them a bank can still misreport, which no check on a sum can see.
   */
  public boolean withinRowBounds() {
    double b = bound;
    return within(squaredErrorSum, 0, 4 * b * b * rows) && within(absoluteErrorSum, 0, 2 * b * rows)
        && within(labelSum, -b * rows, b * rows) && within(squaredLabelSum, 0, b * b * rows);
  }

  /** {@code v} in {@code [low, high]} up to float rounding. */
  private static boolean within(double v, double low, double high) {
    double slack = 1e-9 * Math.max(1, Math.abs(high - low));
    return v >= low - slack && v <= high + slack;
  }

  /** Root mean squared error; NaN without rows. */
  public double rmse() {
    return rows == 0 ? Double.NaN : Math.sqrt(Math.max(0, squaredErrorSum) / rows);
  }

  /** Mean absolute error; NaN without rows. */
  public double mae() {
    return rows == 0 ? Double.NaN : Math.max(0, absoluteErrorSum) / rows;
  }

  /**
   * {@code 1 - SSE / SST} with SST the squared deviation of the labels from their pooled mean; NaN
   * without rows or when every label is the same (SST 0 or below the sum's fixed-point resolution).
   */
  public double rSquared() {
    if (rows == 0) {
      return Double.NaN;
    }
    double total = squaredLabelSum - labelSum * labelSum / rows;
    if (!(total > 1e-9 * bound * bound)) {
      return Double.NaN;
    }
    return 1 - Math.max(0, squaredErrorSum) / total;
  }

  /**
   * The RMSE of predicting the pooled label mean for every row (the naive baseline R^2 compares with:
   * {@code rmse() / meanPredictionRmse() = sqrt(1 - R^2)}); NaN without rows.
   */
  public double meanPredictionRmse() {
    return rows == 0 ? Double.NaN : Math.sqrt(Math.max(0, squaredLabelSum - labelSum * labelSum / rows) / rows);
  }

  /** The RMSE of predicting 0 for every row (a naive baseline, from the same sums). */
  public double zeroPredictionRmse() {
    return rows == 0 ? Double.NaN : Math.sqrt(Math.max(0, squaredLabelSum) / rows);
  }
}
