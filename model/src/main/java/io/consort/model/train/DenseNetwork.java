package io.consort.model.train;

import java.util.Arrays;

/**
 * Forward and backward passes of a dense ReLU stack with one sigmoid output, on flat parameters in
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
  private float[] labels = new float[0];
  private double[] squaredNorms = new double[0];
  /** The largest layer's weight gradient, transposed, for kernels that compute it that way. */
  private final float[] scratch;
  private final DenseKernel kernel;
  private int capacity;

  /** A network on this process's preferred kernel ({@link DenseKernel#preferred()}). */
  DenseNetwork(int[] sizes) {
    this(sizes, DenseKernel.preferred());
  }

  DenseNetwork(int[] sizes, DenseKernel kernel) {
    this(sizes, kernel, 0);
  }

  /**
   * A network whose parameters start at {@code firstParameter} of the vectors it is given (the
   * dense head of a sequence model, after the sequence layer's parameters).
   */
  DenseNetwork(int[] sizes, DenseKernel kernel, int firstParameter) {
    this.kernel = kernel;
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
    }
    labels = Arrays.copyOf(labels, grown);
    squaredNorms = new double[grown];
    capacity = grown;
  }

  @Override
  public void forward(float[] parameters, int rows) {
    if (parameters.length != parameterCount) {
      throw new IllegalArgumentException(
          "expected " + parameterCount + " parameters, got " + parameters.length);
    }
    for (int l = 1; l <= layers; l++) {
      int nIn = sizes[l - 1];
      int nOut = sizes[l];
      float[] wt = transposed[l];
      int w = weightOffset[l];
      transpose(parameters, w, nIn, nOut, wt);
      kernel.forward(activations[l - 1], rows, nIn, parameters, w, wt, biasOffset[l],
          activations[l], nOut);
      if (l < layers) {
        kernel.relu(activations[l], rows * nOut);
      }
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
   * mask); returns the summed binary cross-entropy loss.
   */
  double backpropagate(float[] parameters, int rows, float[] inputError) {
    double loss = crossEntropyErrors(activations[layers], labels, rows, deltas[layers]);
    // delta[l-1] = (delta[l] W_l) masked by ReLU'(layer l-1's output)
    for (int l = layers; l >= 2; l--) {
      kernel.backpropagate(deltas[l], rows, sizes[l], parameters, weightOffset[l], deltas[l - 1],
          sizes[l - 1]);
      kernel.reluMask(deltas[l - 1], activations[l - 1], rows * sizes[l - 1]);
    }
    if (inputError != null) {
      kernel.backpropagate(deltas[1], rows, sizes[1], parameters, weightOffset[1], inputError,
          sizes[0]);
    }
    return loss;
  }

  /**
   * Example {@code r}'s squared gradient norm in this network's layers, after
   * {@link #backpropagate}: the sum over layers of {@code (|a|^2 + 1) |delta|^2}.
   */
  double exampleSquaredNorm(int r) {
    double sum = 0;
    for (int l = 1; l <= layers; l++) {
      double input = squaredNorm(activations[l - 1], r * sizes[l - 1], sizes[l - 1]);
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
      kernel.weightGradient(activations[l - 1], deltas[l], rows, sizes[l - 1], sizes[l], gradient,
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
