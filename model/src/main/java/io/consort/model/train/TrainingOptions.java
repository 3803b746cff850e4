package io.consort.model.train;

import java.util.Objects;
import java.util.Optional;

/**
 * How one round of local training runs.
 *
 * @param dpSgd record-level DP-SGD, or null to train without it
 * @param optimizerState whether Adam's moment estimates survive from one round to the next
 * @param proximalMu FedProx's mu (Li et al. 2020, "Federated Optimization in Heterogeneous Networks"):
 *     each local step's gradient gets mu (w - w_global), pulling the bank's model towards the round's
 *     global model; 0 for none. It depends on no row, so under DP-SGD it is added after the noise and
 *     costs no privacy.
 */
public record TrainingOptions(DpSgdConfig dpSgd, OptimizerState optimizerState, double proximalMu) {

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
    if (!(proximalMu >= 0) || Double.isInfinite(proximalMu)) {
      throw new IllegalArgumentException("the proximal term mu must be finite and >= 0, got " + proximalMu);
    }
  }

  public TrainingOptions(DpSgdConfig dpSgd, OptimizerState optimizerState) {
    this(dpSgd, optimizerState, 0);
  }

  /** These options with FedProx's proximal term mu (0: none). */
  public TrainingOptions withProximalMu(double mu) {
    return new TrainingOptions(dpSgd, optimizerState, mu);
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
    return new TrainingOptions(dpSgd, state, proximalMu);
  }

  public Optional<DpSgdConfig> dp() {
    return Optional.ofNullable(dpSgd);
  }
}
