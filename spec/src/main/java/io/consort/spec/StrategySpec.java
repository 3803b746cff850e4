package io.consort.spec;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How the coordinator turns each round's aggregate (the weighted mean update, the negative of a
 * pseudo-gradient) into the next global model: federated averaging or one of the adaptive server
 * optimisers of Reddi et al. 2021 ("Adaptive Federated Optimization"). They all see only the
 * securely aggregated mean, never one bank's update.
 *
 * @param name the rule
 * @param serverLearningRate eta, the server's step (1 for plain FedAvg)
 * @param beta1 momentum of FedAvgM, first-moment decay of FedAdam/FedYogi/FedAdagrad, in [0, 1); 0 for fedavg
 * @param beta2 second-moment decay of FedAdam/FedYogi, in [0, 1); 0 for the others
 * @param tau the adaptivity floor added to the root of the second moment, > 0 for the adaptive rules, 0 for
 *     fedavg and fedavgm (a value a rule does not use is refused, so one plan has one spelling)
 */
public record StrategySpec(Name name, double serverLearningRate, double beta1, double beta2, double tau) {

  /** The server update rules. */
  public enum Name {
    FEDAVG("fedavg"),
    FEDAVGM("fedavgm"),
    FEDADAM("fedadam"),
    FEDYOGI("fedyogi"),
    FEDADAGRAD("fedadagrad");

    private final String wireName;

    Name(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }

    public boolean usesBeta2() {
      return this == FEDADAM || this == FEDYOGI;
    }

    public boolean adaptive() {
      return this == FEDADAM || this == FEDYOGI || this == FEDADAGRAD;
    }

    /** @throws IllegalArgumentException naming the allowed values */
    public static Name fromName(String name) {
      String wanted = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
      for (Name n : values()) {
        if (n.wireName.equals(wanted)) {
          return n;
        }
      }
      throw new IllegalArgumentException("must be one of " + Arrays.stream(values()).map(Name::wireName)
          .collect(Collectors.joining(", ")) + ", got '" + name + "'");
    }
  }

  /** Reddi et al.'s defaults for the adaptive rules, and the server step of their experiments. */
  public static final double DEFAULT_ADAPTIVE_LEARNING_RATE = 0.01;
  public static final double DEFAULT_BETA1 = 0.9;
  public static final double DEFAULT_BETA2 = 0.99;
  public static final double DEFAULT_TAU = 1e-3;

  public StrategySpec {
    java.util.Objects.requireNonNull(name, "name");
    if (!(serverLearningRate > 0) || Double.isInfinite(serverLearningRate)) {
      throw new InvalidJobSpecException("strategy.server_learning_rate", "must be finite and > 0, got "
          + serverLearningRate);
    }
    if (name == Name.FEDAVG && serverLearningRate != 1) {
      throw new InvalidJobSpecException("strategy.server_learning_rate", "of fedavg is 1 (the mean update applied "
          + "as it is); use fedavgm for another server step, got " + serverLearningRate);
    }
    if (!(beta1 >= 0 && beta1 < 1)) {
      throw new InvalidJobSpecException("strategy.beta1", "must be in [0, 1), got " + beta1);
    }
    if (name == Name.FEDAVG && beta1 != 0) {
      throw new InvalidJobSpecException("strategy.beta1", "applies only to fedavgm, fedadam, fedyogi and "
          + "fedadagrad, not fedavg");
    }
    if (!(beta2 >= 0 && beta2 < 1)) {
      throw new InvalidJobSpecException("strategy.beta2", "must be in [0, 1), got " + beta2);
    }
    if (!name.usesBeta2() && beta2 != 0) {
      throw new InvalidJobSpecException("strategy.beta2", "applies only to fedadam and fedyogi, not "
          + name.wireName());
    }
    if (name.adaptive() && (!(tau > 0) || Double.isInfinite(tau))) {
      throw new InvalidJobSpecException("strategy.tau", "must be finite and > 0, got " + tau);
    }
    if (!name.adaptive() && tau != 0) {
      throw new InvalidJobSpecException("strategy.tau", "applies only to fedadam, fedyogi and fedadagrad, not "
          + name.wireName());
    }
  }

  /** Whether the rule keeps a second moment with decay {@code beta2} (FedAdagrad's only accumulates). */
  public boolean usesBeta2() {
    return name.usesBeta2();
  }

  /** Plain federated averaging (McMahan et al. 2017). */
  public static StrategySpec fedAvg() {
    return new StrategySpec(Name.FEDAVG, 1, 0, 0, 0);
  }

  /** {@code name} with its defaults. */
  public static StrategySpec defaults(Name name) {
    return switch (name) {
      case FEDAVG -> fedAvg();
      case FEDAVGM -> new StrategySpec(name, 1, DEFAULT_BETA1, 0, 0);
      case FEDADAM, FEDYOGI -> new StrategySpec(name, DEFAULT_ADAPTIVE_LEARNING_RATE, DEFAULT_BETA1, DEFAULT_BETA2,
          DEFAULT_TAU);
      case FEDADAGRAD -> new StrategySpec(name, DEFAULT_ADAPTIVE_LEARNING_RATE, DEFAULT_BETA1, 0, DEFAULT_TAU);
    };
  }

  /** The rule and its settings as a model card and the provenance state them. */
  public String description() {
    String updates = "; updates weighted by each bank's training rows";
    return switch (name) {
      case FEDAVG -> "FedAvg (McMahan et al. 2017)" + updates;
      case FEDAVGM -> String.format(Locale.ROOT, "FedAvgM (Hsu et al. 2019), server learning rate %s, momentum %s",
          serverLearningRate, beta1) + updates;
      case FEDADAM, FEDYOGI -> String.format(Locale.ROOT, "%s (Reddi et al. 2021), server learning rate %s, beta1 %s, "
          + "beta2 %s, tau %s", label(), serverLearningRate, beta1, beta2, tau) + updates;
      case FEDADAGRAD -> String.format(Locale.ROOT, "FedAdagrad (Reddi et al. 2021), server learning rate %s, beta1 %s, "
          + "tau %s", serverLearningRate, beta1, tau) + updates;
    };
  }

  private String label() {
    return name == Name.FEDADAM ? "FedAdam" : "FedYogi";
  }
}
