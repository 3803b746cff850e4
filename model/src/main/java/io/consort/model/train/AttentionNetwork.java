package io.consort.model.train;

import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * DL4J's {@code SelfAttentionLayer} with input projection ({@code nIn = channels},
 * {@code nOut = units}, {@code nHeads = heads}, head size {@code s = units / heads}, scaled), then
 * global average pooling over time, the dense head and one output (the spec's activation, objective
 * and dropout: {@link DenseNetwork.Head}; dropout on the head's inputs, as DL4J's), on flat parameters
 * in DL4J's layout, so that a model trained here and one trained by the DL4J engine are the same
 * model. A row of {@code channels x window} features is channel-major (DL4J's
 * {@code [channels, window]} input, NCW).
 *
 * <p>The math is libnd4j's {@code multi_head_dot_product_attention}: per time step {@code t},
 * {@code q_t = Wq x_t}, {@code k_t = Wk x_t}, {@code v_t = Wv x_t} (each {@code units} wide, head
 * {@code h} its slice {@code [h s, (h + 1) s)}); per head and query step, the weights
 * {@code a[tq][tk] = softmax_tk(k_tk . q_tq / sqrt(s))} over the key steps; the head's output
 * {@code o_tq = sum_tk a[tq][tk] v_tk}; the heads side by side, times {@code Wo}. Layout
 * ({@link ParameterLayout}): {@code Wq}, {@code Wk}, {@code Wv}, each {@code [heads, s, channels]}
 * row-major (row {@code h s + d} holds the weights into projected unit {@code h s + d}, as the
 * {@link DenseKernel}'s layout: the three together are one {@code 3 units x channels} matrix),
 * then {@code Wo [units, units]} row-major (input unit, then output unit: the kernel's transposed
 * form); no biases; the head after them.
 *
 * <p>Average pooling is linear and {@code Wo} is shared by all steps, so the pooled output is
 * {@code Wo} times the mean over query steps of the heads' outputs, {@code obar = (1/T) sum_tk
 * w_tk v_tk} with {@code w_tk = sum_tq a[tq][tk]}: {@code Wo} is one product over the batch, not
 * over every step, and is a dense layer without bias to the head. Backward, the error at every
 * step's head output is the same {@code g = dobar / T}, so the error at the weights is
 * {@code u_tk = g . v_tk} for every query step, at the values {@code w_tk g}, and through the
 * softmax {@code ds[tq][tk] = a[tq][tk] (u_tk - sum_k a[tq][k] u_k)}, scaled by
 * {@code 1/sqrt(s)} into the queries and keys. The projections' weight gradient is one product
 * over all steps of the batch.
 *
 * <p>DP-SGD clips each example's whole gradient exactly: the head's layers and {@code Wo} by the
 * layer-wise identity ({@link DenseNetwork}: {@code |obar|^2 |delta|^2}), the projections by
 * forming the example's {@code 3 units x channels} gradient in double (as many multiply-adds as
 * its forward projection). Every part of an example's gradient is linear in its output error, so
 * scaling its errors scales its gradient. The gradient is the true one: DL4J 1.0.0-M2.1's own
 * backward pass returns twice it for this layer's parameters (see consort-model-dl4j's
 * {@code Dl4jPerExampleClipper}). Not thread-safe: one instance per training thread.
 */
final class AttentionNetwork extends HeadedNetwork {
  private final int window;
  private final int channels;
  private final int units;
  private final int heads;
  private final int headSize;
  private final int features;
  /** {@code 3 units}: the width of a step's {@code [q, k, v]}. */
  private final int projected;
  private final int outputOffset;
  private final float scale;
  private final DenseKernel kernel;
  private final DenseNetwork head;
  /** Wq, Wk, Wv as one {@code 3 units x channels} matrix, then {@code 3 units} zero biases. */
  private final float[] projection;
  private final float[] projectionTransposed;
  private final float[] projectionGradient;
  /** Wo as the kernel reads it: row {@code o} the weights into output unit {@code o}; zero biases. */
  private final float[] output;
  /** Wo as DL4J stores it, {@code units x units}: the kernel's transposed form. */
  private final float[] outputTransposed;
  private final float[] outputGradient;
  private final float[] scratch;
  /** One example's projection gradient, formed for its norm. */
  private final double[] formed;
  /** One head's error at the attention weights, per key step. */
  private final float[] keyErrors;
  /** Per example and step, {@code x_t}: {@code rows x window x channels}. */
  private float[] steps = new float[0];
  /** Per example and step, {@code [q, k, v]}: {@code rows x window x 3 units}. */
  private float[] qkv = new float[0];
  /** Per example, head and query step, the softmax weights over key steps. */
  private float[] weights = new float[0];
  /** Per example, head and key step, {@code w_tk}: its weights summed over query steps. */
  private float[] keyWeights = new float[0];
  /** Per example, the heads' outputs averaged over steps: {@code rows x units}. */
  private float[] meanOutput = new float[0];
  /** The error at the pooled output (the head's input), then at {@code obar}. */
  private float[] pooledError = new float[0];
  private float[] meanOutputError = new float[0];
  /** The error at {@code [q, k, v]}, as {@link #qkv}. */
  private float[] qkvErrors = new float[0];

  /** The original head: ReLU hidden layers, a binary sigmoid output, no dropout. */
  AttentionNetwork(SequenceSpec sequence, int features, List<Integer> headLayers,
      DenseKernel kernel) {
    this(sequence, features, headLayers, DenseNetwork.Head.RELU_BINARY, kernel);
  }

  /** The network of {@code spec} (its head's activation, objective and dropout) on rows of {@code features}. */
  AttentionNetwork(ModelSpec spec, int features, DenseKernel kernel) {
    this(spec.sequence().orElseThrow(), features, spec.hiddenLayers(), DenseNetwork.Head.of(spec),
        kernel);
  }

  AttentionNetwork(SequenceSpec sequence, int features, List<Integer> headLayers,
      DenseNetwork.Head headKind, DenseKernel kernel) {
    super(features);
    if (sequence.heads() < 1) {
      throw new IllegalArgumentException("an attention layer needs heads >= 1, got "
          + sequence.heads());
    }
    this.window = sequence.window();
    this.channels = sequence.channels(features);
    this.units = sequence.units();
    this.heads = sequence.heads();
    this.headSize = units / heads;
    this.features = features;
    this.kernel = kernel;
    projected = 3 * units;
    outputOffset = projected * channels;
    scale = (float) (1.0 / Math.sqrt(headSize));
    head = new DenseNetwork(DenseNetwork.stackSizes(units, headLayers), kernel,
        outputOffset + units * units, headKind, true);
    projection = new float[projected * channels + projected];
    projectionTransposed = new float[channels * projected];
    projectionGradient = new float[projection.length];
    output = new float[units * units + units];
    outputTransposed = new float[units * units];
    outputGradient = new float[output.length];
    scratch = new float[Math.max(channels * projected, units * units)];
    formed = new double[projected * channels];
    keyErrors = new float[window];
  }

  @Override
  DenseNetwork head() {
    return head;
  }

  @Override
  long largestBufferPerRow() {
    // every step's inputs and [q, k, v], every head's weights
    return Math.max((long) window * Math.max(channels, projected), (long) heads * window * window);
  }

  @Override
  String describeBatch(int rows) {
    return "a batch of " + rows + " rows over a window of " + window + " steps of " + channels
        + " channels, " + units + " attention units and " + heads + " heads";
  }

  @Override
  void allocate(int rows) {
    steps = new float[rows * window * channels];
    qkv = new float[rows * window * projected];
    qkvErrors = new float[rows * window * projected];
    weights = new float[rows * heads * window * window];
    keyWeights = new float[rows * heads * window];
    meanOutput = new float[rows * units];
    pooledError = new float[rows * units];
    meanOutputError = new float[rows * units];
  }

  @Override
  void forwardLayers(float[] parameters, int rows, RandomGenerator masks) {
    loadWeights(parameters);
    for (int r = 0; r < rows; r++) {
      for (int t = 0; t < window; t++) {
        int to = (r * window + t) * channels;
        for (int c = 0; c < channels; c++) {
          steps[to + c] = input[r * features + c * window + t];
        }
      }
    }
    kernel.forward(steps, rows * window, channels, projection, 0, projectionTransposed,
        projected * channels, qkv, projected);
    for (int r = 0; r < rows; r++) {
      for (int h = 0; h < heads; h++) {
        attend(r, h);
      }
    }
    kernel.forward(meanOutput, rows, units, output, 0, outputTransposed, units * units,
        head.inputBuffer(rows), units);
    head.forward(parameters, rows, masks);
  }

  private void loadWeights(float[] parameters) {
    System.arraycopy(parameters, 0, projection, 0, projected * channels);
    DenseNetwork.transpose(parameters, 0, channels, projected, projectionTransposed);
    System.arraycopy(parameters, outputOffset, outputTransposed, 0, units * units);
    // DL4J's Wo is [input unit, output unit]: the kernel's rows are its columns
    DenseNetwork.transpose(parameters, outputOffset, units, units, output);
  }

  /** Example r's head h: its softmax weights, their sums per key step, and its mean output. */
  private void attend(int r, int h) {
    int base = r * window * projected + h * headSize;
    int keys = base + units;
    int values = base + 2 * units;
    int a = (r * heads + h) * window * window;
    int w = (r * heads + h) * window;
    Arrays.fill(keyWeights, w, w + window, 0f);
    for (int tq = 0; tq < window; tq++) {
      int q = base + tq * projected;
      int row = a + tq * window;
      float max = Float.NEGATIVE_INFINITY;
      for (int tk = 0; tk < window; tk++) {
        int k = keys + tk * projected;
        float dot = 0f;
        for (int d = 0; d < headSize; d++) {
          dot += qkv[q + d] * qkv[k + d];
        }
        float score = dot * scale;
        weights[row + tk] = score;
        max = Math.max(max, score);
      }
      double sum = 0;
      for (int tk = 0; tk < window; tk++) {
        float e = (float) Math.exp(weights[row + tk] - max);
        weights[row + tk] = e;
        sum += e;
      }
      float inverse = (float) (1.0 / sum);
      for (int tk = 0; tk < window; tk++) {
        weights[row + tk] *= inverse;
        keyWeights[w + tk] += weights[row + tk];
      }
    }
    int mean = r * units + h * headSize;
    Arrays.fill(meanOutput, mean, mean + headSize, 0f);
    for (int tk = 0; tk < window; tk++) {
      float wk = keyWeights[w + tk] / window;
      int v = values + tk * projected;
      for (int d = 0; d < headSize; d++) {
        meanOutput[mean + d] += wk * qkv[v + d];
      }
    }
  }

  @Override
  public double backward(float[] parameters, int rows, double clipNorm, float[] gradient) {
    double loss = head.backpropagate(parameters, rows, pooledError);
    kernel.backpropagate(pooledError, rows, units, output, 0, meanOutputError, units);
    for (int r = 0; r < rows; r++) {
      for (int h = 0; h < heads; h++) {
        attendBackward(r, h);
      }
    }
    if (clipNorm > 0) {
      for (int r = 0; r < rows; r++) {
        double squared = head.exampleSquaredNorm(r)
            + DenseNetwork.squaredNorm(meanOutput, r * units, units)
            * DenseNetwork.squaredNorm(pooledError, r * units, units)
            + projectionSquaredNorm(r);
        squaredNorms[r] = squared;
        float factor = DenseNetwork.clipScale(squared, clipNorm);
        if (factor != 1f) {
          head.scaleExample(r, factor);
          scale(pooledError, r * units, units, factor);
          scale(qkvErrors, r * window * projected, window * projected, factor);
        }
      }
    }
    head.writeGradient(rows, gradient);
    kernel.weightGradient(meanOutput, pooledError, rows, units, units, outputGradient, 0,
        units * units, scratch);
    // back to DL4J's [input unit, output unit]
    DenseNetwork.transpose(outputGradient, 0, units, units, scratch);
    System.arraycopy(scratch, 0, gradient, outputOffset, units * units);
    kernel.weightGradient(steps, qkvErrors, rows * window, channels, projected,
        projectionGradient, 0, projected * channels, scratch);
    System.arraycopy(projectionGradient, 0, gradient, 0, projected * channels);
    return loss;
  }

  private static void scale(float[] values, int from, int length, float factor) {
    for (int i = from; i < from + length; i++) {
      values[i] *= factor;
    }
  }

  /** Example r's head h backwards: the errors at its queries, keys and values. */
  private void attendBackward(int r, int h) {
    int base = r * window * projected + h * headSize;
    int keys = base + units;
    int values = base + 2 * units;
    int a = (r * heads + h) * window * window;
    int w = (r * heads + h) * window;
    int g = r * units + h * headSize;
    float perStep = 1f / window;
    for (int t = 0; t < window; t++) {
      int step = base + t * projected;
      Arrays.fill(qkvErrors, step, step + headSize, 0f);
      Arrays.fill(qkvErrors, step + units, step + units + headSize, 0f);
      // the values' error: w_tk g
      float wk = keyWeights[w + t] * perStep;
      int v = values + t * projected;
      float dot = 0f;
      for (int d = 0; d < headSize; d++) {
        float gd = meanOutputError[g + d];
        qkvErrors[step + 2 * units + d] = wk * gd;
        dot += gd * qkv[v + d];
      }
      keyErrors[t] = dot * perStep;
    }
    for (int tq = 0; tq < window; tq++) {
      int row = a + tq * window;
      float expected = 0f;
      for (int tk = 0; tk < window; tk++) {
        expected += weights[row + tk] * keyErrors[tk];
      }
      int q = base + tq * projected;
      for (int tk = 0; tk < window; tk++) {
        float ds = weights[row + tk] * (keyErrors[tk] - expected) * scale;
        if (ds == 0f) {
          continue;
        }
        int k = keys + tk * projected;
        for (int d = 0; d < headSize; d++) {
          qkvErrors[q + d] += ds * qkv[k + d];
          qkvErrors[k + d] += ds * qkv[q + d];
        }
      }
    }
  }

  /** Example r's squared projection gradient norm, from its gradient formed in double. */
  private double projectionSquaredNorm(int r) {
    Arrays.fill(formed, 0);
    for (int t = 0; t < window; t++) {
      int e = (r * window + t) * projected;
      int x = (r * window + t) * channels;
      for (int j = 0; j < projected; j++) {
        float error = qkvErrors[e + j];
        if (error != 0f) {
          int row = j * channels;
          for (int c = 0; c < channels; c++) {
            formed[row + c] += (double) error * steps[x + c];
          }
        }
      }
    }
    double sum = 0;
    for (double v : formed) {
      sum += v * v;
    }
    return sum;
  }

  @Override
  public void addL2(float[] parameters, float[] gradient, float l2) {
    // every attention parameter is a weight (the layer has no biases)
    for (int i = 0; i < outputOffset + units * units; i++) {
      gradient[i] += l2 * parameters[i];
    }
    head.addL2(parameters, gradient, l2);
  }
}
