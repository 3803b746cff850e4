package io.consort.spec;

import io.consort.model.train.TrainingEngine;
import java.util.Objects;

/**
 * How the federation trains.
 *
 * @param rounds federated rounds, 1 to {@value #MAX_ROUNDS}
 * @param localEpochs passes over its training rows each bank makes per round, 1 to {@value #MAX_LOCAL_EPOCHS}
 * @param minBanks the fewest banks whose updates a round may aggregate (fewer: the round is aborted)
 * @param engine the bank's local training engine; native computes only dense ReLU classifiers
 * @param strategy how the coordinator applies each round's aggregate
 * @param proximalMu FedProx's client-side proximal term mu (Li et al. 2020), 0 for none
 */
public record TrainingSpec(int rounds, int localEpochs, int minBanks, TrainingEngine engine, StrategySpec strategy,
                           double proximalMu) {
  public static final int MAX_ROUNDS = 100_000;
  public static final int MAX_LOCAL_EPOCHS = 1_000;
  public static final int MAX_BANKS = 10_000;

  public TrainingSpec {
    if (rounds < 1 || rounds > MAX_ROUNDS) {
      throw new InvalidJobSpecException("rounds", "must be in [1, " + MAX_ROUNDS + "], got " + rounds);
    }
    if (localEpochs < 1 || localEpochs > MAX_LOCAL_EPOCHS) {
      throw new InvalidJobSpecException("local_epochs", "must be in [1, " + MAX_LOCAL_EPOCHS + "], got "
          + localEpochs);
    }
    if (minBanks < 1 || minBanks > MAX_BANKS) {
      throw new InvalidJobSpecException("min_banks", "must be in [1, " + MAX_BANKS + "], got " + minBanks);
    }
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(strategy, "strategy");
    if (!(proximalMu >= 0) || Double.isInfinite(proximalMu)) {
      throw new InvalidJobSpecException("strategy.proximal_mu", "must be finite and >= 0, got " + proximalMu);
    }
    if (proximalMu > 0 && engine != TrainingEngine.NATIVE) {
      throw new InvalidJobSpecException("strategy.proximal_mu", "needs the native engine, which adds the proximal "
          + "term to each step; got engine " + engine.wireName());
    }
  }

  /** Training without FedProx's proximal term. */
  public TrainingSpec(int rounds, int localEpochs, int minBanks, TrainingEngine engine, StrategySpec strategy) {
    this(rounds, localEpochs, minBanks, engine, strategy, 0);
  }
}
