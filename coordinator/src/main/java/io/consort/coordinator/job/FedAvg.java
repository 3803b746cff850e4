package io.consort.coordinator.job;

/**
 * Federated averaging (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from
 * Decentralized Data", Algorithm 1): the new global model is the old one plus the weighted mean of
 * the banks' updates.
 */
public final class FedAvg implements ServerUpdateRule {
  @Override
  public float[] apply(float[] global, AggregatedUpdate update) {
    double[] sum = update.weightedSum();
    if (sum.length != global.length) {
      throw new IllegalArgumentException("the aggregate has " + sum.length + " values but the model has "
          + global.length);
    }
    float[] next = new float[global.length];
    for (int i = 0; i < global.length; i++) {
      next[i] = (float) (global[i] + sum[i] / update.totalWeight());
    }
    return next;
  }
}
