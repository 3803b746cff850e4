package io.consort.model.train;

/**
 * The sequence layer of a {@link ModelType#isSequence() sequence model}.
 *
 * @param window time steps per example; an encoded row holds {@code window} values of each channel
 * @param units LSTM/RNN units, convolution filters, or the attention layer's output width
 * @param kernelSize the convolution's kernel width in time steps (1-D CNN only; 0 otherwise)
 * @param heads attention heads (attention only; 0 otherwise); {@code units} must divide by it
 */
public record SequenceSpec(int window, int units, int kernelSize, int heads) {
  public static final int MAX_WINDOW = 4096;
  public static final int MAX_UNITS = 4096;

  public SequenceSpec {
    if (window < 1 || window > MAX_WINDOW) {
      throw new IllegalArgumentException("window must be in [1, " + MAX_WINDOW + "], got " + window);
    }
    if (units < 1 || units > MAX_UNITS) {
      throw new IllegalArgumentException("units must be in [1, " + MAX_UNITS + "], got " + units);
    }
    if (kernelSize < 0 || kernelSize > window) {
      throw new IllegalArgumentException("kernel_size must be in [1, window = " + window + "], got " + kernelSize);
    }
    if (heads < 0 || (heads > 0 && units % heads != 0)) {
      throw new IllegalArgumentException("heads must be positive and divide units (" + units + "), got " + heads);
    }
  }

  /** Channels per time step of an encoded row of {@code features} values. */
  public int channels(int features) {
    if (features % window != 0) {
      throw new IllegalArgumentException("the encoded rows have " + features + " features, which is not a whole "
          + "number of channels over a window of " + window + " time steps");
    }
    return features / window;
  }
}
