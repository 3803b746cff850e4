package io.consort.model.train;

import java.util.Objects;
import java.util.Optional;

/**
 * How one round of local training runs.
 *
 * @param dpSgd record-level DP-SGD, or null to train without it
 * @param optimizerState whether Adam's moment estimates survive from one round to the next
 */
public record TrainingOptions(DpSgdConfig dpSgd, OptimizerState optimizerState) {

  /**
   * Adam's state at a bank between rounds. FedAvg formally restarts local optimisers each round;
   * keeping the moments is cheaper in steps but they describe the previous global model. Measured on
   * German credit (3 banks, 10 rounds): see docs/BENCHMARKS.md; RESET is the default.
   */
  public enum OptimizerState {
    RESET_EACH_ROUND,
    KEEP_ACROSS_ROUNDS
  }

  public TrainingOptions {
    Objects.requireNonNull(optimizerState, "optimizerState");
  }

  /** Plain mini-batch training with shuffled fixed-size batches. */
  public static TrainingOptions standard() {
    return new TrainingOptions(null, OptimizerState.RESET_EACH_ROUND);
  }

  public static TrainingOptions withDpSgd(DpSgdConfig config) {
    return new TrainingOptions(Objects.requireNonNull(config, "config"),
        OptimizerState.RESET_EACH_ROUND);
  }

  public TrainingOptions withOptimizerState(OptimizerState state) {
    return new TrainingOptions(dpSgd, state);
  }

  public Optional<DpSgdConfig> dp() {
    return Optional.ofNullable(dpSgd);
  }
}
