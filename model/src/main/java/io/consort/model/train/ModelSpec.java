package io.consort.model.train;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A model's architecture and local optimiser settings: for the dense families, hidden layers of
 * {@code activation} and one output; for the sequence families ({@link ModelType#isSequence()}),
 * the sequence layer of {@code sequence}, then the same dense head. The output is one sigmoid unit
 * trained on binary cross-entropy ({@link Objective#BINARY}) or one identity unit trained on mean
 * squared error ({@link Objective#REGRESSION}); the optimiser is Adam.
 *
 * @param hiddenLayers sizes of the dense hidden layers (the head of a sequence model); empty for
 *     logistic regression
 * @param batchSize mini-batch size without DP (with DP-SGD the expected batch is set by the
 *     sampling rate instead)
 * @param learningRate Adam step size
 * @param l2 L2 penalty coefficient on weights (not biases), as DL4J's {@code l2}; 0 for none
 * @param seed seeds parameter initialisation only, so the coordinator's initial global model is
 *     reproducible; it never seeds sampling or noise
 * @param activation the dense hidden layers' activation
 * @param dropout probability of dropping each input of a dense head layer that follows a hidden or
 *     sequence layer, in [0, 1); 0 for none (dropout draws are not privacy-relevant: they do not
 *     depend on the data)
 * @param objective what the output predicts
 * @param sequence the sequence layer; present exactly for the sequence families
 */
public record ModelSpec(
    ModelType type, List<Integer> hiddenLayers, int batchSize, double learningRate, double l2,
    long seed, HiddenActivation activation, double dropout, Objective objective,
    Optional<SequenceSpec> sequence) {

  /** The brief's loan-risk network: 64 ReLU, 32 ReLU, 1 sigmoid. */
  public static final List<Integer> DEFAULT_HIDDEN_LAYERS = List.of(64, 32);
  public static final int DEFAULT_BATCH_SIZE = 32;
  /**
   * Chosen on German credit (3 banks, 10 FedAvg rounds of 1 local epoch at batch 32): 1e-3 learns
   * too little in the 250 local steps such a job has; 3e-3 reaches the centralised AUC without
   * overfitting (see docs/BENCHMARKS.md).
   */
  public static final double DEFAULT_LEARNING_RATE = 3e-3;

  /** A binary classifier with ReLU hidden layers and no dropout (the original dense families). */
  public ModelSpec(ModelType type, List<Integer> hiddenLayers, int batchSize, double learningRate,
      double l2, long seed) {
    this(type, hiddenLayers, batchSize, learningRate, l2, seed, HiddenActivation.RELU, 0,
        Objective.BINARY, Optional.empty());
  }

  public ModelSpec {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(activation, "activation");
    Objects.requireNonNull(objective, "objective");
    Objects.requireNonNull(sequence, "sequence");
    hiddenLayers = List.copyOf(Objects.requireNonNull(hiddenLayers, "hiddenLayers"));
    for (int size : hiddenLayers) {
      if (size <= 0) {
        throw new IllegalArgumentException("hidden layer sizes must be positive: " + hiddenLayers);
      }
    }
    if (type == ModelType.LOGISTIC_REGRESSION && !hiddenLayers.isEmpty()) {
      throw new IllegalArgumentException(
          "logistic regression has no hidden layers, got " + hiddenLayers);
    }
    if (type == ModelType.MLP && hiddenLayers.isEmpty()) {
      throw new IllegalArgumentException("an MLP needs at least one hidden layer");
    }
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
    }
    if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
      throw new IllegalArgumentException("learningRate must be finite and > 0, got " + learningRate);
    }
    if (!(l2 >= 0) || !Double.isFinite(l2)) {
      throw new IllegalArgumentException("l2 must be finite and >= 0, got " + l2);
    }
    if (!(dropout >= 0) || !(dropout < 1)) {
      throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
    }
    if (type.isSequence() != sequence.isPresent()) {
      throw new IllegalArgumentException(type.isSequence()
          ? "a " + type.wireName() + " model needs its sequence layer (window, units)"
          : "a " + type.wireName() + " model has no sequence layer (window, units, kernel_size, heads)");
    }
    if (type == ModelType.LOGISTIC_REGRESSION && (activation != HiddenActivation.RELU || dropout > 0)) {
      throw new IllegalArgumentException("logistic regression has no hidden layer for an activation "
          + "or dropout, got activation " + activation.wireName() + " and dropout " + dropout);
    }
    sequence.ifPresent(s -> {
      if ((type == ModelType.CNN1D) != (s.kernelSize() > 0)) {
        throw new IllegalArgumentException(type == ModelType.CNN1D
            ? "a cnn1d model needs kernel_size >= 1" : "kernel_size applies only to cnn1d, not "
            + type.wireName());
      }
      if ((type == ModelType.ATTENTION) != (s.heads() > 0)) {
        throw new IllegalArgumentException(type == ModelType.ATTENTION
            ? "an attention model needs heads >= 1" : "heads applies only to attention, not "
            + type.wireName());
      }
    });
  }

  /**
   * Whether the native engine computes this model ({@link NativeNetwork#of}): every model type
   * (dense, 1-D CNN, LSTM, SimpleRnn and self-attention) with any hidden activation, objective and
   * dropout. DL4J (the {@code dl4j} engine) trains a model only when the job asks for it.
   */
  public boolean nativeKernel() {
    return switch (type) {
      case MLP, LOGISTIC_REGRESSION, CNN1D, LSTM, SIMPLE_RNN, ATTENTION -> true;
      default -> false;
    };
  }

  /** The default loan-risk MLP. */
  public static ModelSpec defaultMlp(long seed) {
    return new ModelSpec(ModelType.MLP, DEFAULT_HIDDEN_LAYERS, DEFAULT_BATCH_SIZE,
        DEFAULT_LEARNING_RATE, 0, seed);
  }

  public static ModelSpec logisticRegression(long seed) {
    return new ModelSpec(ModelType.LOGISTIC_REGRESSION, List.of(), DEFAULT_BATCH_SIZE,
        DEFAULT_LEARNING_RATE, 0, seed);
  }

  /** A sequence model of {@code type} with a dense ReLU head. */
  public static ModelSpec sequence(ModelType type, SequenceSpec sequence, List<Integer> head,
      Objective objective, long seed) {
    return new ModelSpec(type, head, DEFAULT_BATCH_SIZE, DEFAULT_LEARNING_RATE, 0, seed,
        HiddenActivation.RELU, 0, objective, Optional.of(sequence));
  }

  public ModelSpec withLearningRate(double newLearningRate) {
    return new ModelSpec(type, hiddenLayers, batchSize, newLearningRate, l2, seed, activation,
        dropout, objective, sequence);
  }

  public ModelSpec withBatchSize(int newBatchSize) {
    return new ModelSpec(type, hiddenLayers, newBatchSize, learningRate, l2, seed, activation,
        dropout, objective, sequence);
  }

  public ModelSpec withL2(double newL2) {
    return new ModelSpec(type, hiddenLayers, batchSize, learningRate, newL2, seed, activation,
        dropout, objective, sequence);
  }

  public ModelSpec withActivation(HiddenActivation newActivation, double newDropout) {
    return new ModelSpec(type, hiddenLayers, batchSize, learningRate, l2, seed, newActivation,
        newDropout, objective, sequence);
  }

  public ModelSpec withObjective(Objective newObjective) {
    return new ModelSpec(type, hiddenLayers, batchSize, learningRate, l2, seed, activation,
        dropout, newObjective, sequence);
  }

  /**
   * Layer widths from input to output of a dense model: {@code [inputs, hidden..., 1]}.
   *
   * @throws IllegalStateException for a sequence model (see {@link ParameterLayout})
   */
  public int[] layerSizes(int inputs) {
    if (type.isSequence()) {
      throw new IllegalStateException("a " + type.wireName() + " model is not a dense stack");
    }
    if (inputs <= 0) {
      throw new IllegalArgumentException("inputs must be positive, got " + inputs);
    }
    return DenseNetwork.stackSizes(inputs, hiddenLayers);
  }
}
