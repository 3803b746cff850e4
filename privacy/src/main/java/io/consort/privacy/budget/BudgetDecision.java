package io.consort.privacy.budget;

/**
 * What a {@link BudgetGuard} concluded about a proposed round.
 *
 * @param accepted whether the round fits in the budget
 * @param spentEpsilon epsilon of the history before the round
 * @param projectedEpsilon epsilon of the history plus the round
 * @param capEpsilon the cap
 * @param delta the delta of all three figures
 */
public record BudgetDecision(boolean accepted, double spentEpsilon, double projectedEpsilon, double capEpsilon,
    double delta) {

  /** Human-readable reason naming spent, projected and cap. */
  public String reason() {
    return String.format(java.util.Locale.ROOT,
        "%s: spent epsilon=%.4f, projected epsilon=%.4f after the round, cap epsilon=%.4f (delta=%s)",
        accepted ? "within privacy budget" : "round would exceed privacy budget", spentEpsilon, projectedEpsilon,
        capEpsilon, delta);
  }
}
