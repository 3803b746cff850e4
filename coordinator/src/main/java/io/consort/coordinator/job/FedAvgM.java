package io.consort.coordinator.job;

import io.consort.protocol.v1.ServerOptimizerState;
import io.consort.spec.StrategySpec;

/**
 * Federated averaging with server momentum (Hsu, Qi and Brown 2019, "Measuring the Effects of
 * Non-Identical Data Distribution for Federated Visual Classification"): with the mean update
 * {@code d}, the velocity is {@code u = beta1 * u + d} and the model moves by {@code eta * u}. With
 * {@code beta1 = 0} and {@code eta = 1} it is FedAvg. Momentum carries the direction of earlier rounds
 * through the noise of non-identical banks (and of DP).
 */
final class FedAvgM implements ServerUpdateRule {
  private static final String NAME = StrategySpec.Name.FEDAVGM.wireName();
  private final double learningRate;
  private final double momentum;
  private double[] velocity;
  private long steps;

  FedAvgM(StrategySpec strategy) {
    if (strategy.name() != StrategySpec.Name.FEDAVGM) {
      throw new IllegalArgumentException("FedAvgM runs strategy fedavgm, not " + strategy.name().wireName());
    }
    this.learningRate = strategy.serverLearningRate();
    this.momentum = strategy.beta1();
  }

  @Override
  public float[] apply(float[] global, AggregatedUpdate update) {
    double[] mean = ServerUpdateRule.meanUpdate(global, update);
    if (velocity == null) {
      velocity = new double[global.length];
    }
    ServerStates.requireLength(velocity, global.length);
    float[] next = new float[global.length];
    for (int i = 0; i < global.length; i++) {
      velocity[i] = momentum * velocity[i] + mean[i];
      next[i] = (float) (global[i] + learningRate * velocity[i]);
    }
    steps++;
    return next;
  }

  @Override
  public ServerOptimizerState state() {
    ServerOptimizerState.Builder state = ServerOptimizerState.newBuilder().setStrategy(NAME).setSteps(steps);
    if (velocity != null) {
      for (double v : velocity) {
        state.addMomentum(v);
      }
    }
    return state.build();
  }

  @Override
  public void restore(ServerOptimizerState state) {
    ServerStates.requireStrategy(state, NAME);
    if (state.getSecondMomentCount() != 0) {
      throw new IllegalArgumentException("a fedavgm state has no second moment, got " + state.getSecondMomentCount()
          + " values");
    }
    velocity = state.getMomentumCount() == 0 ? null : ServerStates.finite(state.getMomentumList(), "momentum");
    steps = state.getSteps();
  }
}
