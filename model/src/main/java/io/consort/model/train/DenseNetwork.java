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
  private float[] clipScale = new float[0];
  /** The largest layer's weight gradient, transposed, for kernels that compute it that way. */
  private final float[] scratch;
  private final DenseKernel kernel;
  private int capacity;

  /** A network on this process's preferred kernel ({@link DenseKernel#preferred()}). */
  DenseNetwork(int[] sizes) {
    this(sizes, DenseKernel.preferred());
  }

  DenseNetwork(int[] sizes, DenseKernel kernel) {
    this.kernel = kernel;
    this.sizes = sizes.clone();
    this.layers = sizes.length - 1;
    weightOffset = new int[layers + 1];
    biasOffset = new int[layers + 1];
    transposed = new float[layers + 1][];
    int offset = 0;
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

  @Override
  public int parameterCount() {
    return parameterCount;
  }

  int inputs() {
    return sizes[0];
  }

  /** The input buffer for a batch of {@code rows}: fill rows {@code 0..rows-1} row-major. */
  @Override
  public float[] inputBuffer(int rows) {
    ensureCapacity(rows);
    return activations[0];
  }

  /** The label buffer for a batch of {@code rows}: 1 for positive, 0 for negative. */
  @Override
  public float[] labelBuffer(int rows) {
    ensureCapacity(rows);
    return labels;
  }

  /** Logits of the last {@link #forward}, rows {@code 0..rows-1}. */
  @Override
  public float[] logits() {
    return activations[layers];
  }

  /** Squared per-example gradient norms of the last {@link #backward} with clipping. */
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
    clipScale = new float[grown];
    capacity = grown;
  }

  /** Computes every layer for the first {@code rows} rows of the input buffer. */
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

  /**
   * After {@link #forward}: writes into {@code gradient} the sum over the batch of each example's
   * binary cross-entropy gradient, each first scaled to norm at most {@code clipNorm} when
   * {@code clipNorm > 0} (DP-SGD, Abadi et al. 2016), and returns the summed loss.
   */
  @Override
  public double backward(float[] parameters, int rows, double clipNorm, float[] gradient) {
    double loss = crossEntropyErrors(activations[layers], labels, rows, deltas[layers]);
    // delta[l-1] = (delta[l] W_l) masked by ReLU'(layer l-1's output)
    for (int l = layers; l >= 2; l--) {
      kernel.backpropagate(deltas[l], rows, sizes[l], parameters, weightOffset[l], deltas[l - 1],
          sizes[l - 1]);
      kernel.reluMask(deltas[l - 1], activations[l - 1], rows * sizes[l - 1]);
    }
    if (clipNorm > 0) {
      computeClipScales(rows, clipNorm);
      // Each example's gradient is the outer product of its inputs and deltas in every layer, so
      // scaling its deltas scales its whole gradient.
      for (int r = 0; r < rows; r++) {
        float scale = clipScale[r];
        if (scale != 1f) {
          for (int l = 1; l <= layers; l++) {
            float[] delta = deltas[l];
            for (int j = r * sizes[l], end = j + sizes[l]; j < end; j++) {
              delta[j] *= scale;
            }
          }
        }
      }
    }
    for (int l = 1; l <= layers; l++) {
      kernel.weightGradient(activations[l - 1], deltas[l], rows, sizes[l - 1], sizes[l], gradient,
          weightOffset[l], biasOffset[l], scratch);
    }
    return loss;
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

  private void computeClipScales(int rows, double clipNorm) {
    double target = clipNorm * CLIP_MARGIN;
    for (int r = 0; r < rows; r++) {
      double sum = 0;
      for (int l = 1; l <= layers; l++) {
        double input = squaredNorm(activations[l - 1], r * sizes[l - 1], sizes[l - 1]);
        double delta = squaredNorm(deltas[l], r * sizes[l], sizes[l]);
        sum += (input + 1.0) * delta;
      }
      squaredNorms[r] = sum;
      double norm = Math.sqrt(sum);
      clipScale[r] = norm > target ? (float) (target / norm) : 1f;
    }
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
