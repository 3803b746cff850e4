package io.consort.coordinator.job;

import io.consort.protocol.v1.ServerOptimizerState;
import io.consort.spec.StrategySpec;

/**
 * The adaptive server optimisers of Reddi et al. 2021 ("Adaptive Federated Optimization", Algorithm
 * 2): FedAdagrad, FedYogi and FedAdam treat the negated mean update {@code d} as a pseudo-gradient.
 * Per coordinate,
 *
 * <pre>
 *   m = beta1 * m + (1 - beta1) * d
 *   v = v + d^2                                  (FedAdagrad)
 *   v = v - (1 - beta2) * d^2 * sign(v - d^2)    (FedYogi)
 *   v = beta2 * v + (1 - beta2) * d^2            (FedAdam)
 *   x = x + eta * m / (sqrt(v) + tau)
 * </pre>
 *
 * with {@code m} starting at 0 and {@code v} at {@code tau^2}, and no bias correction, as in the paper.
 * The three differ only in the second-moment line, so they share this class. The state is kept in
 * double precision; only the model is float.
 */
final class AdaptiveServerOptimizer implements ServerUpdateRule {
  private final StrategySpec strategy;
  private double[] firstMoment;
  private double[] secondMoment;
  private long steps;

  AdaptiveServerOptimizer(StrategySpec strategy) {
    if (!strategy.name().adaptive()) {
      throw new IllegalArgumentException("an adaptive server optimiser runs fedadam, fedyogi or fedadagrad, not "
          + strategy.name().wireName());
    }
    this.strategy = strategy;
  }

  @Override
  public float[] apply(float[] global, AggregatedUpdate update) {
    double[] d = ServerUpdateRule.meanUpdate(global, update);
    if (firstMoment == null) {
      firstMoment = new double[global.length];
      secondMoment = new double[global.length];
      java.util.Arrays.fill(secondMoment, strategy.tau() * strategy.tau());
    }
    ServerStates.requireLength(firstMoment, global.length);
    double beta1 = strategy.beta1();
    double beta2 = strategy.beta2();
    double eta = strategy.serverLearningRate();
    double tau = strategy.tau();
    float[] next = new float[global.length];
    for (int i = 0; i < global.length; i++) {
      double square = d[i] * d[i];
      firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * d[i];
      secondMoment[i] = switch (strategy.name()) {
        case FEDADAGRAD -> secondMoment[i] + square;
        case FEDYOGI -> secondMoment[i] - (1 - beta2) * square * Math.signum(secondMoment[i] - square);
        case FEDADAM -> beta2 * secondMoment[i] + (1 - beta2) * square;
        default -> throw new IllegalStateException("not adaptive: " + strategy.name());
      };
      next[i] = (float) (global[i] + eta * firstMoment[i] / (Math.sqrt(secondMoment[i]) + tau));
    }
    steps++;
    return next;
  }

  @Override
  public ServerOptimizerState state() {
    ServerOptimizerState.Builder state = ServerOptimizerState.newBuilder().setStrategy(strategy.name().wireName())
        .setSteps(steps);
    if (firstMoment != null) {
      for (int i = 0; i < firstMoment.length; i++) {
        state.addMomentum(firstMoment[i]).addSecondMoment(secondMoment[i]);
      }
    }
    return state.build();
  }

  @Override
  public void restore(ServerOptimizerState state) {
    ServerStates.requireStrategy(state, strategy.name().wireName());
    if (state.getMomentumCount() != state.getSecondMomentCount()) {
      throw new IllegalArgumentException("the stored moments differ in length: " + state.getMomentumCount()
          + " and " + state.getSecondMomentCount());
    }
    if (state.getMomentumCount() == 0) {
      firstMoment = null;
      secondMoment = null;
    } else {
      firstMoment = ServerStates.finite(state.getMomentumList(), "momentum");
      secondMoment = ServerStates.finite(state.getSecondMomentList(), "second_moment");
      for (double v : secondMoment) {
        if (v < 0) {
          throw new IllegalArgumentException("a stored second moment is negative: " + v);
        }
      }
    }
    steps = state.getSteps();
  }
}
