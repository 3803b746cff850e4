package io.consort.model.train;

import java.util.ArrayList;
import java.util.List;

/**
 * The flat parameter vector of a {@link ModelSpec} on {@code inputs} encoded features, block by
 * block in the order of DL4J's {@code MultiLayerNetwork.params()} for the network that
 * consort-model-dl4j builds from the same spec (tests there compare every block's name and size
 * with DL4J's {@code paramTable()}). Plain Java, so the coordinator can count and initialise any
 * model without DL4J.
 *
 * @param blocks in vector order
 */
public record ParameterLayout(List<Block> blocks) {

  /** What a block holds, which decides its initialisation and whether L2 applies to it. */
  public enum Kind {
    /** A weight matrix or tensor: Xavier-initialised, penalised by L2. */
    WEIGHT,
    /** Biases: constant, not penalised by L2. */
    BIAS
  }

  /**
   * One block of consecutive parameters.
   *
   * @param name DL4J's name for it, prefixed with its layer index ({@code "0_W"})
   * @param fanIn, fanOut the Xavier fans of a weight block
   * @param initialValue the constant of a bias block
   */
  public record Block(String name, Kind kind, int size, int fanIn, int fanOut, float initialValue) {}

  public ParameterLayout {
    blocks = List.copyOf(blocks);
  }

  public int parameterCount() {
    long count = 0;
    for (Block b : blocks) {
      count += b.size();
    }
    return Math.toIntExact(count);
  }

  /** Whether the parameter at each index is a weight (L2 applies) rather than a bias. */
  public boolean[] weightMask() {
    boolean[] mask = new boolean[parameterCount()];
    int at = 0;
    for (Block b : blocks) {
      if (b.kind() == Kind.WEIGHT) {
        java.util.Arrays.fill(mask, at, at + b.size(), true);
      }
      at += b.size();
    }
    return mask;
  }

  /**
   * The layout of {@code spec} on rows of {@code inputs} encoded features.
   *
   * @throws IllegalArgumentException when a sequence model's window does not divide the row into
   *     whole channels
   */
  public static ParameterLayout of(ModelSpec spec, int inputs) {
    if (inputs <= 0) {
      throw new IllegalArgumentException("inputs must be positive, got " + inputs);
    }
    List<Block> blocks = new ArrayList<>();
    int layer = 0;
    int width = inputs;
    if (spec.sequence().isPresent()) {
      SequenceSpec s = spec.sequence().get();
      int c = s.channels(inputs);
      int n = s.units();
      switch (spec.type()) {
        case LSTM -> {
          // DL4J's LSTMParamInitializer: input weights [c, 4n], recurrent [n, 4n], biases [4n] in
          // gate order (block input, forget, output, input gate); the forget gate's biases start at
          // 1 (DL4J's forgetGateBiasInit default, Gers et al. 2000).
          blocks.add(weight(layer, "W", c * 4 * n, c, n));
          blocks.add(weight(layer, "RW", n * 4 * n, n, n));
          blocks.add(new Block(layer + "_b", Kind.BIAS, n, 0, 0, 0f));
          blocks.add(new Block(layer + "_b", Kind.BIAS, n, 0, 0, 1f));
          blocks.add(new Block(layer + "_b", Kind.BIAS, 2 * n, 0, 0, 0f));
        }
        case SIMPLE_RNN -> {
          blocks.add(weight(layer, "W", c * n, c, n));
          blocks.add(weight(layer, "RW", n * n, n, n));
          blocks.add(bias(layer, "b", n));
        }
        case CNN1D -> {
          // DL4J's ConvolutionParamInitializer puts the biases first, then the weights, whose
          // paramTable shape is [n, c, k, 1] but whose flat order (probed in consort-model-dl4j's
          // Conv1dNetworkTest against DL4J's outputs) holds the weight of tap j, channel i, filter f
          // at (j*c + i)*n + f: a [k*c, n] matrix, row-major (see Conv1dNetwork).
          int k = s.kernelSize();
          blocks.add(bias(layer, "b", n));
          blocks.add(weight(layer, "W", n * c * k, c * k, n * k));
        }
        case ATTENTION -> {
          // DL4J's SelfAttentionLayer with input projection: Wq, Wk, Wv [heads, headSize, c] and
          // Wo [units, units]; no biases.
          blocks.add(weight(layer, "Wq", n * c, c, n / s.heads()));
          blocks.add(weight(layer, "Wk", n * c, c, n / s.heads()));
          blocks.add(weight(layer, "Wv", n * c, c, n / s.heads()));
          blocks.add(weight(layer, "Wo", n * n, n, n));
        }
        default -> throw new IllegalStateException("not a sequence model: " + spec.type());
      }
      // the sequence layer, then a parameter-free pooling or last-time-step layer
      layer += spec.type() == ModelType.LSTM || spec.type() == ModelType.SIMPLE_RNN ? 1 : 2;
      width = n;
    }
    for (int h : spec.hiddenLayers()) {
      blocks.add(weight(layer, "W", width * h, width, h));
      blocks.add(bias(layer, "b", h));
      width = h;
      layer++;
    }
    blocks.add(weight(layer, "W", width, width, 1));
    blocks.add(bias(layer, "b", 1));
    return new ParameterLayout(blocks);
  }

  private static Block weight(int layer, String name, int size, int fanIn, int fanOut) {
    return new Block(layer + "_" + name, Kind.WEIGHT, size, fanIn, fanOut, 0f);
  }

  private static Block bias(int layer, String name, int size) {
    return new Block(layer + "_" + name, Kind.BIAS, size, 0, 0, 0f);
  }
}
