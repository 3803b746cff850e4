package io.consort.coordinator.job;

/**
 * What a round lets the server see of the banks' updates: their weighted sum and the total weight
 * in it, never one bank's update on its own (under secure aggregation the sum is all that is ever
 * unmasked). Weights are example counts in plaintext rounds and FedAvg fractions under secure
 * aggregation; either way {@code weightedSum / totalWeight} is the weighted mean update.
 */
public record AggregatedUpdate(double[] weightedSum, double totalWeight, int banks) {
  public AggregatedUpdate {
    if (!(totalWeight > 0) || Double.isInfinite(totalWeight)) {
      throw new IllegalArgumentException("totalWeight must be finite and > 0, got " + totalWeight);
    }
    if (banks < 1) {
      throw new IllegalArgumentException("an aggregate needs at least one bank, got " + banks);
    }
  }
}
