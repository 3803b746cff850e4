package io.consort.model.train;

import java.util.random.RandomGenerator;

/**
 * A network the native engine computes: forward pass, summed (optionally per-example clipped)
 * gradients and per-example gradient norms over one batch, on flat parameters in DL4J's layout
 * ({@link ParameterLayout}) and reused buffers. {@link LocalTrainer} and {@link Predictor} use it;
 * {@link #of} picks the implementation for a model. Not thread-safe: one instance per thread.
 */
interface NativeNetwork {

  /** The network for {@code spec} on rows of {@code inputs} encoded features. */
  static NativeNetwork of(ModelSpec spec, int inputs) {
    if (!spec.nativeKernel()) {
      throw new IllegalArgumentException("the native engine does not compute a " + spec.type().wireName()
          + " model");
    }
    return switch (spec.type()) {
      case MLP, LOGISTIC_REGRESSION -> DenseNetwork.of(spec, inputs, DenseKernel.preferred());
      case CNN1D -> new Conv1dNetwork(spec, inputs);
      case LSTM -> new LstmNetwork(spec, inputs, DenseKernel.preferred());
      case SIMPLE_RNN -> new SimpleRnnNetwork(spec, inputs, DenseKernel.preferred());
      case ATTENTION -> new AttentionNetwork(spec, inputs, DenseKernel.preferred());
      default -> throw new IllegalArgumentException("no native network for " + spec.type().wireName());
    };
  }

  int parameterCount();

  /** The input buffer for a batch of {@code rows}: fill rows {@code 0..rows-1} row-major. */
  float[] inputBuffer(int rows);

  /** The label buffer for a batch of {@code rows}: 1 for positive, 0 for negative; a regression's targets. */
  float[] labelBuffer(int rows);

  /**
   * Computes the logits of the first {@code rows} rows of the input buffer, without dropout: for
   * scoring and evaluation.
   */
  void forward(float[] parameters, int rows);

  /**
   * The training pass: {@link #forward} with the model's dropout, each example's masks drawn from
   * {@code masks} (the trainer's randomness: CSPRNG-derived in production). A network without
   * dropout ignores {@code masks}.
   */
  default void forwardTraining(float[] parameters, int rows, RandomGenerator masks) {
    forward(parameters, rows);
  }

  /**
   * Logits of the last forward pass, rows {@code 0..rows-1}: the output's pre-activation (a
   * regression model's prediction).
   */
  float[] logits();

  /**
   * After a forward pass: writes into {@code gradient} the sum over the batch of each example's
   * loss gradient (binary cross-entropy, or squared error for regression; through the pass's
   * dropout masks), each first scaled to norm at most {@code clipNorm} when
   * {@code clipNorm > 0} (DP-SGD), and returns the summed loss.
   */
  double backward(float[] parameters, int rows, double clipNorm, float[] gradient);

  /** Squared per-example gradient norms of the last {@link #backward} with clipping. */
  double[] squaredNorms();

  /** gradient += l2 * W for every weight (biases are not penalised, as in DL4J). */
  void addL2(float[] parameters, float[] gradient, float l2);
}
