package io.consort.model.train;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Forward and backward passes of a dense stack (hidden layers of ReLU, tanh or sigmoid) with one
 * output, sigmoid on binary cross-entropy or identity on squared error ({@link Head}), on flat parameters in
 * DL4J order (per layer: weights {@code nIn x nOut} column-major, i.e. the {@code nIn} weights into
 * output unit {@code j} are contiguous, then {@code nOut} biases), over reused row-major buffers.
 *
 * <p>The matrix products go to a {@link DenseKernel}: the Vector API kernel when the process has
 * jdk.incubator.vector, plain loops otherwise. This class keeps the buffers (allocated for the
 * largest batch seen, then reused), the loss, the ReLU masks and DP-SGD's clipping.
 *
 * <p>Per-example gradient norms come from the layer-wise identity for dense layers: example r's
 * weight gradient in layer l is the outer product of its layer input {@code a} and backpropagated
 * error {@code delta}, so its squared norm is {@code |a|^2 |delta|^2}, plus {@code |delta|^2} for
 * the bias (Goodfellow 2015, "Efficient per-example gradient computations"). No per-example pass.
 * Not thread-safe: one instance per training thread.
 */
final class DenseNetwork implements NativeNetwork {
  private final int[] sizes;
  private final int layers;
  private final int[] weightOffset;
  private final int[] biasOffset;
  private final int parameterCount;
  private final float[][] transposed;
  private final float[][] activations;
  private final float[][] deltas;
  private final Head head;
  /** The first layer whose input dropout applies to (layers + 1: none). */
  private final int firstDropped;
  /** Per dropped layer l, its input's mask (0 or 1 / keep) and the masked input, at index l - 1. */
  private final float[][] masks;
  private final float[][] dropped;
  /** Whether the last forward pass dropped inputs (a training pass of a model with dropout). */
  private boolean dropping;
  private float[] labels = new float[0];
  private double[] squaredNorms = new double[0];
  /** The largest layer's weight gradient, transposed, for kernels that compute it that way. */
  private final float[] scratch;
  private final DenseKernel kernel;
  private int capacity;

  DenseNetwork(int[] sizes, DenseKernel kernel) {
    this(sizes, kernel, 0);
  }

  /**
   * A network whose parameters start at {@code firstParameter} of the vectors it is given (the
   * dense head of a sequence model, after the sequence layer's parameters).
   */
  DenseNetwork(int[] sizes, DenseKernel kernel, int firstParameter) {
    this(sizes, kernel, firstParameter, Head.RELU_BINARY, false);
  }

  /** A dense model's network for {@code spec} on rows of {@code inputs} features. */
  static DenseNetwork of(ModelSpec spec, int inputs, DenseKernel kernel) {
    return new DenseNetwork(spec.layerSizes(inputs), kernel, 0, Head.of(spec), false);
  }

  /**
   * A network of {@code head}'s activation, output and dropout whose parameters start at
   * {@code firstParameter}; {@code afterSequence}: its input is a sequence layer's output (a
   * sequence model's head), so dropout applies from its first layer.
   */
  DenseNetwork(int[] sizes, DenseKernel kernel, int firstParameter, Head head,
      boolean afterSequence) {
    this.kernel = kernel;
    this.head = head;
    this.sizes = sizes.clone();
    this.layers = sizes.length - 1;
    weightOffset = new int[layers + 1];
    biasOffset = new int[layers + 1];
    transposed = new float[layers + 1][];
    int offset = firstParameter;
    int largestLayer = 0;
    for (int l = 1; l <= layers; l++) {
      largestLayer = Math.max(largestLayer, sizes[l - 1] * sizes[l]);
      weightOffset[l] = offset;
      offset += sizes[l - 1] * sizes[l];
      biasOffset[l] = offset;
      offset += sizes[l];
      transposed[l] = new float[sizes[l - 1] * sizes[l]];
    }
    parameterCount = offset;
    scratch = new float[largestLayer];
    activations = new float[layers + 1][0];
    deltas = new float[layers + 1][0];
    firstDropped = head.dropout() == 0 ? layers + 1 : afterSequence ? 1 : 2;
    masks = new float[layers + 1][0];
    dropped = new float[layers + 1][0];
  }

  /**
   * What a dense stack computes besides its shape: the hidden layers' activation, the output and
   * loss ({@link Objective}), and the dropout probability of a layer's input (0: none).
   */
  record Head(HiddenActivation activation, Objective objective, double dropout) {
    /** The original head: ReLU, a binary sigmoid output, no dropout. */
    static final Head RELU_BINARY = new Head(HiddenActivation.RELU, Objective.BINARY, 0);

    Head {
      if (!(dropout >= 0 && dropout < 1)) {
        throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
      }
    }

    static Head of(ModelSpec spec) {
      return new Head(spec.activation(), spec.objective(), spec.dropout());
    }
  }

  /** The widths of a dense stack (a dense model, or a sequence model's head): {@code [inputs, hidden..., 1]}. */
  static int[] stackSizes(int inputs, java.util.List<Integer> hidden) {
    int[] sizes = new int[hidden.size() + 2];
    sizes[0] = inputs;
    for (int l = 0; l < hidden.size(); l++) {
      sizes[l + 1] = hidden.get(l);
    }
    sizes[sizes.length - 1] = 1;
    return sizes;
  }

  /** The length of the parameter vectors this network reads (its own are the last ones). */
  @Override
  public int parameterCount() {
    return parameterCount;
  }

  int inputs() {
    return sizes[0];
  }

  @Override
  public float[] inputBuffer(int rows) {
    ensureCapacity(rows);
    return activations[0];
  }

  @Override
  public float[] labelBuffer(int rows) {
    ensureCapacity(rows);
    return labels;
  }

  @Override
  public float[] logits() {
    return activations[layers];
  }

  @Override
  public double[] squaredNorms() {
    return squaredNorms;
  }

  private void ensureCapacity(int rows) {
    if (rows <= capacity) {
      return;
    }
    int grown = Math.max(rows, capacity + (capacity >> 1));
    for (int l = 0; l <= layers; l++) {
      activations[l] = Arrays.copyOf(activations[l], grown * sizes[l]);
      deltas[l] = new float[l == 0 ? 0 : grown * sizes[l]];
      if (l + 1 >= firstDropped && l < layers) {
        masks[l] = new float[grown * sizes[l]];
        dropped[l] = new float[grown * sizes[l]];
      }
    }
    labels = Arrays.copyOf(labels, grown);
    squaredNorms = new double[grown];
    capacity = grown;
  }

  @Override
  public void forward(float[] parameters, int rows) {
    forward(parameters, rows, null);
  }

  @Override
  public void forwardTraining(float[] parameters, int rows, RandomGenerator masksSource) {
    forward(parameters, rows, firstDropped <= layers ? masksSource : null);
  }

  /** The forward pass; with dropout masks drawn from {@code masksSource} unless it is null. */
  void forward(float[] parameters, int rows, RandomGenerator masksSource) {
    if (parameters.length != parameterCount) {
      throw new IllegalArgumentException(
          "expected " + parameterCount + " parameters, got " + parameters.length);
    }
    ensureCapacity(rows);
    dropping = masksSource != null;
    for (int l = 1; l <= layers; l++) {
      int nIn = sizes[l - 1];
      int nOut = sizes[l];
      float[] wt = transposed[l];
      int w = weightOffset[l];
      transpose(parameters, w, nIn, nOut, wt);
      if (dropping && l >= firstDropped) {
        drawMask(masksSource, 1 - head.dropout(), masks[l - 1], rows * nIn);
        float[] in = activations[l - 1];
        float[] mask = masks[l - 1];
        float[] out = dropped[l - 1];
        for (int i = 0; i < rows * nIn; i++) {
          out[i] = in[i] * mask[i];
        }
      }
      kernel.forward(layerInput(l), rows, nIn, parameters, w, wt, biasOffset[l],
          activations[l], nOut);
      if (l < layers) {
        activate(activations[l], rows * nOut);
      }
    }
  }

  /** Layer {@code l}'s input in the last forward pass: the previous layer's output, dropped or not. */
  private float[] layerInput(int l) {
    return dropping && l >= firstDropped ? dropped[l - 1] : activations[l - 1];
  }

  private void activate(float[] values, int length) {
    switch (head.activation()) {
      case RELU -> kernel.relu(values, length);
      case TANH -> kernel.tanh(values, 0, length);
      case SIGMOID -> kernel.sigmoid(values, 0, length);
    }
  }

  /** {@code error *= f'(z)} given the activation's output {@code a = f(z)}. */
  private void activationDerivative(float[] error, float[] activation, int length) {
    switch (head.activation()) {
      case RELU -> kernel.reluMask(error, activation, length);
      case TANH -> {
        for (int i = 0; i < length; i++) {
          float a = activation[i];
          error[i] *= 1 - a * a;
        }
      }
      case SIGMOID -> {
        for (int i = 0; i < length; i++) {
          float a = activation[i];
          error[i] *= a * (1 - a);
        }
      }
    }
  }

  /**
   * Inverted dropout's mask: {@code mask[i] = 1 / keep} with probability {@code keep}, else 0, for
   * {@code i < length}; each uniform is 32 bits of {@code source} (two per {@code nextLong}), so the
   * keep probability is {@code keep} to within 2^-32.
   */
  static void drawMask(RandomGenerator source, double keep, float[] mask, int length) {
    long threshold = (long) Math.ceil(keep * 0x1p32);
    float scale = (float) (1 / keep);
    int i = 0;
    for (; i + 1 < length; i += 2) {
      long bits = source.nextLong();
      mask[i] = (bits >>> 32) < threshold ? scale : 0f;
      mask[i + 1] = (bits & 0xFFFFFFFFL) < threshold ? scale : 0f;
    }
    if (i < length) {
      mask[i] = (source.nextLong() >>> 32) < threshold ? scale : 0f;
    }
  }

  @Override
  public double backward(float[] parameters, int rows, double clipNorm, float[] gradient) {
    double loss = backpropagate(parameters, rows, null);
    if (clipNorm > 0) {
      for (int r = 0; r < rows; r++) {
        squaredNorms[r] = exampleSquaredNorm(r);
        scaleExample(r, clipScale(squaredNorms[r], clipNorm));
      }
    }
    writeGradient(rows, gradient);
    return loss;
  }

  /**
   * After {@link #forward}: every layer's error for the first {@code rows} rows, and when
   * {@code inputError} is not null the error at the inputs ({@code rows x inputs()}, no activation
   * activation derivative, but through the first layer's dropout mask if it has one); returns the
   * summed loss (binary cross-entropy, or squared error for regression).
   */
  double backpropagate(float[] parameters, int rows, float[] inputError) {
    double loss = head.objective() == Objective.BINARY
        ? crossEntropyErrors(activations[layers], labels, rows, deltas[layers])
        : squaredErrors(activations[layers], labels, rows, deltas[layers]);
    // delta[l-1] = (delta[l] W_l), through layer l's dropout mask, times f'(layer l-1's output)
    for (int l = layers; l >= 2; l--) {
      kernel.backpropagate(deltas[l], rows, sizes[l], parameters, weightOffset[l], deltas[l - 1],
          sizes[l - 1]);
      applyMask(l, deltas[l - 1], rows);
      activationDerivative(deltas[l - 1], activations[l - 1], rows * sizes[l - 1]);
    }
    if (inputError != null) {
      kernel.backpropagate(deltas[1], rows, sizes[1], parameters, weightOffset[1], inputError,
          sizes[0]);
      applyMask(1, inputError, rows);
    }
    return loss;
  }

  /** {@code error *= layer l's input mask} when the last forward pass dropped layer l's input. */
  private void applyMask(int l, float[] error, int rows) {
    if (dropping && l >= firstDropped) {
      float[] mask = masks[l - 1];
      for (int i = 0; i < rows * sizes[l - 1]; i++) {
        error[i] *= mask[i];
      }
    }
  }

  /**
   * Example {@code r}'s squared gradient norm in this network's layers, after
   * {@link #backpropagate}: the sum over layers of {@code (|a|^2 + 1) |delta|^2}.
   */
  double exampleSquaredNorm(int r) {
    double sum = 0;
    for (int l = 1; l <= layers; l++) {
      double input = squaredNorm(layerInput(l), r * sizes[l - 1], sizes[l - 1]);
      double delta = squaredNorm(deltas[l], r * sizes[l], sizes[l]);
      sum += (input + 1.0) * delta;
    }
    return sum;
  }

  /**
   * Scales example {@code r}'s gradient: it is the outer product of its inputs and deltas in every
   * layer, so scaling its deltas scales all of it.
   */
  void scaleExample(int r, float scale) {
    if (scale == 1f) {
      return;
    }
    for (int l = 1; l <= layers; l++) {
      float[] delta = deltas[l];
      for (int j = r * sizes[l], end = j + sizes[l]; j < end; j++) {
        delta[j] *= scale;
      }
    }
  }

  /** Writes the summed gradient of the first {@code rows} rows into this network's blocks. */
  void writeGradient(int rows, float[] gradient) {
    for (int l = 1; l <= layers; l++) {
      kernel.weightGradient(layerInput(l), deltas[l], rows, sizes[l - 1], sizes[l], gradient,
          weightOffset[l], biasOffset[l], scratch);
    }
  }

  /**
   * The norm each example's gradient is scaled to, relative to the clip norm. The norm is computed in
   * double from the float activations and deltas, but the gradient is then formed and accumulated in
   * float, whose rounding (a relative error of a few 2^-24 per product) could lift the added
   * gradient's norm just above C, past the sensitivity the accountant assumes; and the noisy sum is
   * snapped to a grid ({@link GaussianNoise#addOnGrid}) whose rounding moves the sum by at most
   * 1e-6 C. Aiming 1e-5 below C covers both.
   */
  static final double CLIP_MARGIN = 1 - 1e-5;

  /**
   * The factor that brings an example's gradient of squared norm {@code squaredNorm} to norm at most
   * {@code clipNorm * CLIP_MARGIN}. An example whose norm is not finite (the coordinator's global model
   * can hold an infinite, NaN or huge parameter) is dropped, scale 0: a NaN norm fails {@code norm > target}
   * and would otherwise be added unscaled, its finite coordinates past the sensitivity bound.
   */
  static float clipScale(double squaredNorm, double clipNorm) {
    double target = clipNorm * CLIP_MARGIN;
    double norm = Math.sqrt(squaredNorm);
    if (!Double.isFinite(norm)) {
      return 0f;
    }
    return norm > target ? (float) (target / norm) : 1f;
  }

  /** gradient += l2 * W for every layer's weights (biases are not penalised, as in DL4J). */
  @Override
  public void addL2(float[] parameters, float[] gradient, float l2) {
    for (int l = 1; l <= layers; l++) {
      for (int i = weightOffset[l]; i < biasOffset[l]; i++) {
        gradient[i] += l2 * parameters[i];
      }
    }
  }

  /**
   * Binary cross-entropy on logits: {@code top[r] = sigmoid(z_r) - y_r} (its derivative in z) for
   * the first {@code rows} rows; returns the summed loss in its stable form
   * {@code max(z,0) - zy + log(1 + e^-|z|)}.
   */
  static double crossEntropyErrors(float[] logits, float[] labels, int rows, float[] top) {
    double loss = 0;
    for (int r = 0; r < rows; r++) {
      float z = logits[r];
      float y = labels[r];
      top[r] = (float) (1.0 / (1.0 + Math.exp(-z))) - y;
      loss += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
    }
    return loss;
  }

  /**
   * Squared error, DL4J's {@code LossMSE} with one output: {@code top[r] = 2 (z_r - y_r)} (its
   * derivative in z) for the first {@code rows} rows; returns the summed {@code (z - y)^2}.
   */
  static double squaredErrors(float[] outputs, float[] labels, int rows, float[] top) {
    double loss = 0;
    for (int r = 0; r < rows; r++) {
      float error = outputs[r] - labels[r];
      top[r] = 2 * error;
      loss += (double) error * error;
    }
    return loss;
  }

  /** {@code wt} = the {@code nOut x nIn} weights at {@code w}, transposed to {@code nIn x nOut}. */
  static void transpose(float[] parameters, int w, int nIn, int nOut, float[] wt) {
    for (int j = 0; j < nOut; j++) {
      for (int i = 0; i < nIn; i++) {
        wt[i * nOut + j] = parameters[w + j * nIn + i];
      }
    }
  }

  static double squaredNorm(float[] values, int from, int length) {
    double sum = 0;
    for (int i = from; i < from + length; i++) {
      sum += (double) values[i] * values[i];
    }
    return sum;
  }
}
