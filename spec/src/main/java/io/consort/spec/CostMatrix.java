package io.consort.spec;

/**
 * What each wrong decision costs, in any one unit. The positive class is the bad outcome the model
 * scores (a default), so a false negative approves a loan that goes bad and a false positive refuses
 * a good one. German credit's documentation gives 5 and 1. A correct decision costs nothing.
 *
 * @param falseNegative cost of approving an applicant of the positive class, finite and {@code >= 0}
 * @param falsePositive cost of refusing an applicant of the negative class, finite and {@code >= 0}
 */
public record CostMatrix(double falseNegative, double falsePositive) {
  /** German credit (Statlog): approving a bad loan costs 5, refusing a good one 1. */
  public static final CostMatrix GERMAN_CREDIT = new CostMatrix(5, 1);

  public CostMatrix {
    if (!(falseNegative >= 0) || !Double.isFinite(falseNegative)) {
      throw new InvalidJobSpecException("cost_matrix.false_negative", "must be finite and >= 0, got " + falseNegative);
    }
    if (!(falsePositive >= 0) || !Double.isFinite(falsePositive)) {
      throw new InvalidJobSpecException("cost_matrix.false_positive", "must be finite and >= 0, got " + falsePositive);
    }
    if (falseNegative + falsePositive == 0) {
      throw new InvalidJobSpecException("cost_matrix", "must give at least one wrong decision a positive cost");
    }
  }

  /**
   * The threshold on a calibrated probability of the positive class above which refusing costs less
   * in expectation than approving: refuse when {@code p * falseNegative >= (1 - p) * falsePositive}.
   */
  public double bayesThreshold() {
    return falsePositive / (falseNegative + falsePositive);
  }
}
