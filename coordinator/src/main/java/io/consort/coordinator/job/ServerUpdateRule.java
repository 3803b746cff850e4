package io.consort.coordinator.job;

import io.consort.protocol.v1.ServerOptimizerState;
import io.consort.spec.StrategySpec;

/**
 * How the coordinator turns a round's aggregate into the next global model. It sees only the
 * aggregate (the weighted mean update, which Reddi et al. call the negative pseudo-gradient), so a
 * rule can never depend on one bank's update, and under DP it is post-processing: it spends no
 * privacy. A rule with memory (momentum, moments) exposes it as {@link #state()}, which is stored with
 * each checkpoint, so a resumed job continues the same trajectory. Called on a worker thread, one
 * round at a time.
 */
public interface ServerUpdateRule {
  /** @return the next global parameters, a new array the length of {@code global} */
  float[] apply(float[] global, AggregatedUpdate update);

  /** What the rule remembers after the rounds applied so far. */
  ServerOptimizerState state();

  /**
   * Continues from a stored state.
   *
   * @throws IllegalArgumentException if the state was written by another rule or for another model size
   */
  void restore(ServerOptimizerState state);

  /** The rule a job's strategy names, fresh. */
  static ServerUpdateRule of(StrategySpec strategy) {
    return switch (strategy.name()) {
      case FEDAVG -> new FedAvg();
      case FEDAVGM -> new FedAvgM(strategy);
      case FEDADAM, FEDYOGI, FEDADAGRAD -> new AdaptiveServerOptimizer(strategy);
    };
  }

  /** The weighted mean update, checked against the model's size. */
  static double[] meanUpdate(float[] global, AggregatedUpdate update) {
    double[] sum = update.weightedSum();
    if (sum.length != global.length) {
      throw new IllegalArgumentException("the aggregate has " + sum.length + " values but the model has "
          + global.length);
    }
    double[] mean = new double[sum.length];
    for (int i = 0; i < sum.length; i++) {
      mean[i] = sum[i] / update.totalWeight();
    }
    return mean;
  }
}
