package io.consort.coordinator.job;

import java.util.List;

/**
 * Federated averaging (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from
 * Decentralized Data", Algorithm 1): the new global model is the old one plus the example-weighted
 * mean of the banks' updates.
 */
public final class FedAvg {
  private FedAvg() {}

  /** One bank's contribution: its parameter delta and how many examples produced it. */
  public record Contribution(String bankId, float[] delta, long examples) {}

  public static float[] apply(float[] global, List<Contribution> contributions) {
    if (contributions.isEmpty()) {
      throw new IllegalArgumentException("FedAvg needs at least one contribution");
    }
    double total = 0;
    for (Contribution c : contributions) {
      if (c.delta().length != global.length) {
        throw new IllegalArgumentException("update of bank '" + c.bankId() + "' has " + c.delta().length
            + " values but the model has " + global.length);
      }
      if (c.examples() <= 0) {
        throw new IllegalArgumentException("update of bank '" + c.bankId() + "' claims " + c.examples() + " examples");
      }
      total += c.examples();
    }
    double[] sum = new double[global.length];
    for (Contribution c : contributions) {
      double w = c.examples() / total;
      float[] d = c.delta();
      for (int i = 0; i < d.length; i++) {
        sum[i] += w * d[i];
      }
    }
    return applyMeanDelta(global, sum);
  }

  /** global + meanDelta, as a new array. */
  public static float[] applyMeanDelta(float[] global, double[] meanDelta) {
    float[] next = new float[global.length];
    for (int i = 0; i < global.length; i++) {
      next[i] = (float) (global[i] + meanDelta[i]);
    }
    return next;
  }
}
