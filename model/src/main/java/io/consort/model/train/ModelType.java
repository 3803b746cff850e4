package io.consort.model.train;

/**
 * The model families a federated job can train. The dense families read one encoded row as a
 * feature vector; the sequence families read it as a window of {@link SequenceSpec#window()} time
 * steps of {@code features / window} channels (channel-major: all time steps of the first channel,
 * then of the next), and end in a dense head ({@link ModelSpec#hiddenLayers()}) and one output.
 */
public enum ModelType {
  /** Dense hidden layers and one output unit. */
  MLP("mlp"),
  /** One output unit on the encoded features, no hidden layer. */
  LOGISTIC_REGRESSION("logistic-regression"),
  /** DL4J's {@code LSTM} over the window; its last time step feeds the head. */
  LSTM("lstm"),
  /** DL4J's {@code SimpleRnn} (Elman) over the window; its last time step feeds the head. */
  SIMPLE_RNN("simple-rnn"),
  /** DL4J's {@code Convolution1DLayer} over the window, global max pooling over time, then the head. */
  CNN1D("cnn1d"),
  /**
   * DL4J's {@code SelfAttentionLayer} (multi-head dot-product attention with input projection)
   * over the window, global average pooling over time, then the head.
   */
  ATTENTION("attention");

  private final String wireName;

  ModelType(String wireName) {
    this.wireName = wireName;
  }

  /** The lower-case name used in job files, options and messages. */
  public String wireName() {
    return wireName;
  }

  /** Whether the model reads a row as a window of a time series. */
  public boolean isSequence() {
    return this != MLP && this != LOGISTIC_REGRESSION;
  }

  /** The type whose {@link #wireName()} is {@code name}, ignoring case and surrounding space. */
  public static ModelType fromName(String name) {
    return WireNames.find(values(), ModelType::wireName, name, "model type");
  }
}
