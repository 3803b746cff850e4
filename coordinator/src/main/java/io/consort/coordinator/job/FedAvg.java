package io.consort.coordinator.job;

import io.consort.protocol.v1.ServerOptimizerState;
import io.consort.spec.StrategySpec;

/**
 * Federated averaging (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from
 * Decentralized Data", Algorithm 1): the new global model is the old one plus the weighted mean of
 * the banks' updates. It remembers nothing between rounds.
 */
public final class FedAvg implements ServerUpdateRule {
  private static final String NAME = StrategySpec.Name.FEDAVG.wireName();
  private long steps;

  @Override
  public float[] apply(float[] global, AggregatedUpdate update) {
    double[] mean = ServerUpdateRule.meanUpdate(global, update);
    float[] next = new float[global.length];
    for (int i = 0; i < global.length; i++) {
      next[i] = (float) (global[i] + mean[i]);
    }
    steps++;
    return next;
  }

  @Override
  public ServerOptimizerState state() {
    return ServerOptimizerState.newBuilder().setStrategy(NAME).setSteps(steps).build();
  }

  @Override
  public void restore(ServerOptimizerState state) {
    ServerStates.requireStrategy(state, NAME);
    steps = state.getSteps();
  }
}
