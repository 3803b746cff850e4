package io.consort.model.train;

import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A DL4J recurrent layer read at its last time step (DL4J's {@code LastTimeStep}), then a dense
 * head and one output (the spec's activation, objective and dropout: {@link DenseNetwork.Head}), on flat parameters in DL4J's layout, so that a model trained here and
 * one trained by the DL4J engine are the same model ({@link ParameterLayout}: input weights
 * {@code [channels, G]}, recurrent weights {@code [n, G]}, both column-major, then biases
 * {@code [G]}, where {@code G} is the layer's pre-activation width: {@code 4n} for the LSTM,
 * {@code n} for SimpleRnn; the head after them). A row of {@code channels x window} features is
 * channel-major (DL4J's {@code [channels, window]} input); {@code h_0 = 0}.
 *
 * <p>This class does what every such layer shares; a subclass is the cell: how the step's
 * pre-activations {@code z_t = x_t W + h_{t-1} RW + b} become {@code h_t} ({@link #cellForward}),
 * and how the error at {@code h_t} becomes the error at {@code z_t} ({@link #cellBackward}). Each
 * time step is one matrix product over the batch on a {@link DenseKernel}, with the input and
 * recurrent weights side by side ({@code [x_t, h_{t-1}]} times a {@code (c + n) x G} matrix);
 * backpropagation through time keeps every step's activated pre-activations, and the weight
 * gradient is one product over all time steps of the batch.
 *
 * <p>DP-SGD clips each example's whole gradient exactly without forming it: the head's layers by
 * the layer-wise identity ({@link DenseNetwork}), the shared recurrent weights by the Gram identity
 * {@code |sum_t g_t a_t^T|^2 = sum_{t,s} (a_t . a_s)(g_t . g_s)} over the example's time steps
 * (inputs {@code a_t = [x_t, h_{t-1}, 1]}, the 1 for the bias; errors {@code g_t} at {@code z_t}),
 * or, when the window is long enough that {@code window^2} pairs cost more, by forming the
 * example's {@code G x (c + n)} gradient in a scratch matrix. Every part of an example's gradient
 * is linear in its output error, so scaling its errors scales its gradient. Not thread-safe: one
 * instance per training thread.
 */
abstract class RecurrentNetwork extends HeadedNetwork {
  final int window;
  final int channels;
  final int units;
  /** The width of {@code z_t}: {@code units} times the cell's pre-activations per unit. */
  final int gates;
  /** {@code channels + units}: the width of {@code [x_t, h_{t-1}]}. */
  final int width;
  final DenseKernel kernel;
  private final int recurrentOffset;
  private final int biasOffset;
  private final int features;
  private final DenseNetwork head;
  /** Whether per-example norms use the Gram identity rather than the formed gradient. */
  private final boolean gramNorms;
  /** Row g: the input weights then the recurrent weights into pre-activation g; then the biases. */
  private final float[] combined;
  /** The combined weights, {@code width x gates} row-major, for the kernel's forward product. */
  private final float[] combinedTransposed;
  private final float[] combinedGradient;
  private final float[] scratch;
  /** One example's recurrent gradient, formed for its norm when the Gram identity costs more. */
  private final double[] formed;
  /** Per time step, rows {@code [x_t, h_{t-1}]}: {@code window x rows x width}. */
  private float[] stacked = new float[0];
  /** Per time step, the cell's activated pre-activations: {@code window x rows x gates}. */
  float[] gateValues = new float[0];
  /** Per time step, the error at {@code z_t}: {@code window x rows x gates}. */
  private float[] gateErrors = new float[0];
  private float[] stepIn = new float[0];
  /** One step's {@code rows x gates}: {@code z_t}, activated in place; backward, its error. */
  float[] stepOut = new float[0];
  /** One step's {@code h_t}, {@code rows x units}, written by {@link #cellForward}. */
  float[] hidden = new float[0];
  /** The error at one step's {@code h_t}, {@code rows x units}, read by {@link #cellBackward}. */
  float[] hiddenError = new float[0];

  RecurrentNetwork(SequenceSpec sequence, int features, List<Integer> headLayers,
      DenseKernel kernel, int gatesPerUnit) {
    this(sequence, features, headLayers, DenseNetwork.Head.RELU_BINARY, kernel, gatesPerUnit);
  }

  RecurrentNetwork(SequenceSpec sequence, int features, List<Integer> headLayers,
      DenseNetwork.Head headKind, DenseKernel kernel, int gatesPerUnit) {
    super(features);
    this.window = sequence.window();
    this.channels = sequence.channels(features);
    this.units = sequence.units();
    this.features = features;
    this.kernel = kernel;
    gates = gatesPerUnit * units;
    width = channels + units;
    recurrentOffset = channels * gates;
    biasOffset = recurrentOffset + units * gates;
    head = new DenseNetwork(DenseNetwork.stackSizes(units, headLayers), kernel, biasOffset + gates,
        headKind, true);
    combined = new float[gates * width + gates];
    combinedTransposed = new float[width * gates];
    combinedGradient = new float[combined.length];
    scratch = new float[width * gates];
    formed = new double[width * gates];
    // Gram: window^2 / 2 pairs of (width + gates) products; formed: window x width x gates.
    gramNorms = (long) window * (width + gates) <= 2L * width * gates;
  }

  /** The layer's name in messages: DL4J's. */
  abstract String layerName();

  /** Allocates the cell's own buffers for batches of up to {@code rows}. */
  abstract void allocateCellBuffers(int rows);

  /**
   * Step {@code t}'s cell: {@link #stepOut} holds {@code z_t} for the first {@code rows} rows;
   * activates it in place (kept for backpropagation as {@link #gateValues} at step {@code t}) and
   * writes {@code h_t} into {@link #hidden}.
   */
  abstract void cellForward(int t, int rows);

  /**
   * Step {@code t}'s cell backwards, from the last step down: {@link #hiddenError} holds the error
   * at {@code h_t}; writes the error at {@code z_t} into {@link #stepOut}.
   */
  abstract void cellBackward(int t, int rows);

  @Override
  DenseNetwork head() {
    return head;
  }

  @Override
  long largestBufferPerRow() {
    // Backpropagation through time keeps every step's inputs and gates: window x rows x values.
    return (long) window * Math.max(width, gates);
  }

  @Override
  String describeBatch(int rows) {
    return "a batch of " + rows + " rows over a window of " + window + " steps of " + channels
        + " channels and " + units + " " + layerName() + " units";
  }

  @Override
  void allocate(int rows) {
    stacked = new float[window * rows * width];
    gateValues = new float[window * rows * gates];
    gateErrors = new float[window * rows * gates];
    stepIn = new float[rows * width];
    stepOut = new float[rows * gates];
    hidden = new float[rows * units];
    hiddenError = new float[rows * units];
    allocateCellBuffers(rows);
  }

  @Override
  void forwardLayers(float[] parameters, int rows, RandomGenerator masks) {
    loadCombined(parameters);
    for (int t = 0; t < window; t++) {
      int base = t * rows * width;
      for (int r = 0; r < rows; r++) {
        int from = r * features + t;
        int to = base + r * width;
        for (int c = 0; c < channels; c++) {
          stacked[to + c] = input[from + c * window];
        }
        if (t == 0) {
          Arrays.fill(stacked, to + channels, to + width, 0f);
        }
      }
      System.arraycopy(stacked, base, stepIn, 0, rows * width);
      kernel.forward(stepIn, rows, width, combined, 0, combinedTransposed, gates * width, stepOut,
          gates);
      cellForward(t, rows);
      System.arraycopy(stepOut, 0, gateValues, t * rows * gates, rows * gates);
      if (t + 1 < window) {
        int next = (t + 1) * rows * width + channels;
        for (int r = 0; r < rows; r++) {
          System.arraycopy(hidden, r * units, stacked, next + r * width, units);
        }
      } else {
        System.arraycopy(hidden, 0, head.inputBuffer(rows), 0, rows * units);
      }
    }
    head.forward(parameters, rows, masks);
  }

  /** The input and recurrent weights side by side, and transposed, from DL4J's blocks. */
  private void loadCombined(float[] parameters) {
    for (int g = 0; g < gates; g++) {
      // DL4J's [channels, G] and [n, G] are column-major: pre-activation g's column is contiguous.
      System.arraycopy(parameters, g * channels, combined, g * width, channels);
      System.arraycopy(parameters, recurrentOffset + g * units, combined, g * width + channels,
          units);
      for (int i = 0; i < width; i++) {
        combinedTransposed[i * gates + g] = combined[g * width + i];
      }
    }
    System.arraycopy(parameters, biasOffset, combined, gates * width, gates);
  }

  @Override
  public double backward(float[] parameters, int rows, double clipNorm, float[] gradient) {
    double loss = head.backpropagate(parameters, rows, hiddenError);
    for (int t = window - 1; t >= 0; t--) {
      cellBackward(t, rows);
      System.arraycopy(stepOut, 0, gateErrors, t * rows * gates, rows * gates);
      if (t > 0) {
        // The error at h_{t-1}: through the recurrent weights only, which DL4J's column-major
        // [n, G] block holds as the kernel's G x n (row g: the weights into pre-activation g).
        kernel.backpropagate(stepOut, rows, gates, parameters, recurrentOffset, hiddenError,
            units);
      }
    }
    if (clipNorm > 0) {
      for (int r = 0; r < rows; r++) {
        double squared = head.exampleSquaredNorm(r)
            + (gramNorms ? gramSquaredNorm(r, rows) : formedSquaredNorm(r, rows));
        squaredNorms[r] = squared;
        float scale = DenseNetwork.clipScale(squared, clipNorm);
        if (scale != 1f) {
          head.scaleExample(r, scale);
          for (int t = 0; t < window; t++) {
            int from = (t * rows + r) * gates;
            for (int k = from; k < from + gates; k++) {
              gateErrors[k] *= scale;
            }
          }
        }
      }
    }
    head.writeGradient(rows, gradient);
    kernel.weightGradient(stacked, gateErrors, window * rows, width, gates, combinedGradient, 0,
        gates * width, scratch);
    for (int g = 0; g < gates; g++) {
      System.arraycopy(combinedGradient, g * width, gradient, g * channels, channels);
      System.arraycopy(combinedGradient, g * width + channels, gradient,
          recurrentOffset + g * units, units);
    }
    System.arraycopy(combinedGradient, gates * width, gradient, biasOffset, gates);
    return loss;
  }

  /** Example r's squared recurrent gradient norm: sum over step pairs of (a_t . a_s + 1)(g_t . g_s). */
  private double gramSquaredNorm(int r, int rows) {
    double sum = 0;
    for (int t = 0; t < window; t++) {
      int at = (t * rows + r) * width;
      int gt = (t * rows + r) * gates;
      for (int s = 0; s <= t; s++) {
        int as = (s * rows + r) * width;
        int gs = (s * rows + r) * gates;
        double inputs = 1.0;
        for (int k = 0; k < width; k++) {
          inputs += (double) stacked[at + k] * stacked[as + k];
        }
        double errors = 0;
        for (int k = 0; k < gates; k++) {
          errors += (double) gateErrors[gt + k] * gateErrors[gs + k];
        }
        sum += (s == t ? 1 : 2) * inputs * errors;
      }
    }
    return sum;
  }

  /** Example r's squared recurrent gradient norm from its gradient, formed in double. */
  private double formedSquaredNorm(int r, int rows) {
    Arrays.fill(formed, 0);
    double bias = 0;
    for (int g = 0; g < gates; g++) {
      double sum = 0;
      for (int t = 0; t < window; t++) {
        float e = gateErrors[(t * rows + r) * gates + g];
        sum += e;
        if (e != 0f) {
          int a = (t * rows + r) * width;
          for (int k = 0; k < width; k++) {
            formed[g * width + k] += (double) e * stacked[a + k];
          }
        }
      }
      bias += sum * sum;
    }
    double weights = 0;
    for (double v : formed) {
      weights += v * v;
    }
    return weights + bias;
  }

  @Override
  public void addL2(float[] parameters, float[] gradient, float l2) {
    for (int i = 0; i < biasOffset; i++) {
      gradient[i] += l2 * parameters[i];
    }
    head.addL2(parameters, gradient, l2);
  }
}
