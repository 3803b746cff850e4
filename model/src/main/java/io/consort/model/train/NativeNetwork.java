package io.consort.model.train;

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
          + " model with activation " + spec.activation().wireName() + ", dropout " + spec.dropout()
          + " and objective " + spec.objective().wireName());
    }
    return switch (spec.type()) {
      case MLP, LOGISTIC_REGRESSION -> new DenseNetwork(spec.layerSizes(inputs));
      case CNN1D -> new Conv1dNetwork(spec, inputs);
      case LSTM -> new LstmNetwork(spec.sequence().orElseThrow(), inputs, spec.hiddenLayers(),
          DenseKernel.preferred());
      case SIMPLE_RNN -> new SimpleRnnNetwork(spec.sequence().orElseThrow(), inputs,
          spec.hiddenLayers(), DenseKernel.preferred());
      case ATTENTION -> new AttentionNetwork(spec.sequence().orElseThrow(), inputs,
          spec.hiddenLayers(), DenseKernel.preferred());
      default -> throw new IllegalArgumentException("no native network for " + spec.type().wireName());
    };
  }

  int parameterCount();

  /** The input buffer for a batch of {@code rows}: fill rows {@code 0..rows-1} row-major. */
  float[] inputBuffer(int rows);

  /** The label buffer for a batch of {@code rows}: 1 for positive, 0 for negative. */
  float[] labelBuffer(int rows);

  /** Computes the logits of the first {@code rows} rows of the input buffer. */
  void forward(float[] parameters, int rows);

  /** Logits of the last {@link #forward}, rows {@code 0..rows-1}. */
  float[] logits();

  /**
   * After {@link #forward}: writes into {@code gradient} the sum over the batch of each example's
   * binary cross-entropy gradient, each first scaled to norm at most {@code clipNorm} when
   * {@code clipNorm > 0} (DP-SGD), and returns the summed loss.
   */
  double backward(float[] parameters, int rows, double clipNorm, float[] gradient);

  /** Squared per-example gradient norms of the last {@link #backward} with clipping. */
  double[] squaredNorms();

  /** gradient += l2 * W for every weight (biases are not penalised, as in DL4J). */
  void addL2(float[] parameters, float[] gradient, float l2);
}
