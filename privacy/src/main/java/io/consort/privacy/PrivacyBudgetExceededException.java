package io.consort.privacy;

/**
 * Thrown when a proposed release would take a privacy unit past its epsilon cap. The message names
 * the epsilon already spent, the epsilon projected after the release and the cap.
 */
public final class PrivacyBudgetExceededException extends Exception {

  private static final long serialVersionUID = 1L;

  private final double spentEpsilon;
  private final double projectedEpsilon;
  private final double capEpsilon;

  public PrivacyBudgetExceededException(String message, double spentEpsilon, double projectedEpsilon,
      double capEpsilon) {
    super(message);
    this.spentEpsilon = spentEpsilon;
    this.projectedEpsilon = projectedEpsilon;
    this.capEpsilon = capEpsilon;
  }

  public double spentEpsilon() {
    return spentEpsilon;
  }

  public double projectedEpsilon() {
    return projectedEpsilon;
  }

  public double capEpsilon() {
    return capEpsilon;
  }
}
