package io.consort.scoring.explain;

/**
 * How much each original column moved one applicant's model logit away from the reference
 * applicant's, in model logit units. The contributions add up to {@code logit - referenceLogit}
 * within {@code residual}.
 *
 * @param perColumn one contribution per schema feature column (numeric columns first, then
 *     categorical ones, schema order); a categorical column's one-hot levels are summed
 * @param residual {@code |sum(perColumn) - (logit - referenceLogit)|}: float rounding for a logistic
 *     regression, float rounding of the logits and the double-precision integral (exact for ReLU,
 *     checked quadrature for tanh and sigmoid networks and sequence models) for a network
 * @param pieces linear pieces of a ReLU network the path from the reference to the row crossed (1
 *     for a logistic regression); for a tanh or sigmoid network or a sequence model, the quadrature's
 *     panels
 */
public record Attribution(double[] perColumn, double logit, double referenceLogit, double residual, int pieces) {
  public Attribution {
    perColumn = perColumn.clone();
  }

  @Override
  public double[] perColumn() {
    return perColumn.clone();
  }

  /** Contribution of column {@code column}. */
  public double of(int column) {
    return perColumn[column];
  }

  public int columns() {
    return perColumn.length;
  }
}
