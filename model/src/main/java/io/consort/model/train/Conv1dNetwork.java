package io.consort.model.train;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The {@link ModelType#CNN1D} model's passes in plain Java, with DL4J's math and parameter layout
 * (checked against DL4J in consort-model-dl4j's tests): a {@code Convolution1DLayer} of {@code N}
 * filters of width {@code K} over {@code C} channels and a window of {@code W} steps (same padding,
 * stride 1, ReLU), global max pooling over time, the dense head and one output (the spec's
 * activation, objective and dropout: {@link DenseNetwork.Head}).
 *
 * <p>Layout ({@link ParameterLayout}): the {@code N} convolution biases, then the {@code K*C*N}
 * convolution weights with the weight of tap {@code j}, channel {@code c}, filter {@code n} at
 * {@code (j*C + c)*N + n}; then the dense head, a {@link DenseNetwork} on the pooled filters whose
 * parameters start after the convolution's (as {@link LstmNetwork}'s head). Input rows are
 * channel-major ({@code x[c*W + t]}); same padding puts {@code (K-1)/2} (rounded down) zeros before
 * the window and the rest after, so output step {@code t} reads input steps
 * {@code t + j - (K-1)/2}.
 *
 * <p>The convolution is im2col (one row of {@code K*C} values per example and time step, in the
 * weights' {@code (j, c)} order) then one {@link DenseKernel} product with the {@code K*C x N}
 * weight matrix, which the flat vector already holds row-major. Max pooling sends each filter's
 * error to one time step (its first maximum), so an example's convolution weight gradient is, per
 * filter, its error times that step's im2col row: per-example norms and clipping are exact and
 * cheap, with no per-example pass (as {@link DenseNetwork}'s layer-wise identity for the head).
 * Not thread-safe: one instance per training thread.
 */
final class Conv1dNetwork extends HeadedNetwork {
  private final int window;
  private final int channels;
  private final int filters;
  private final int kernelSize;
  private final int padBefore;
  /** K*C: the width of an im2col row. */
  private final int patch;
  private final int convWeightOffset;
  /** The dense head on the pooled filters: {@code [N, head..., 1]}. */
  private final DenseNetwork head;
  /** Convolution weights as the kernel reads them: N rows of K*C, then the N biases. */
  private final float[] convRows;
  /** Convolution weights K*C x N row-major (the flat vector's order). */
  private final float[] convColumns;
  private final DenseKernel kernel;
  private float[] columns = new float[0];
  private float[] convolved = new float[0];
  /** Per example and filter, the time step of the pooled maximum. */
  private int[] argmax = new int[0];
  /** The error at the pooled filters, {@code rows x N}. */
  private float[] pooledError = new float[0];

  Conv1dNetwork(ModelSpec spec, int inputs) {
    this(spec, inputs, DenseKernel.preferred());
  }

  Conv1dNetwork(ModelSpec spec, int inputs, DenseKernel kernel) {
    super(inputs);
    if (spec.type() != ModelType.CNN1D || spec.sequence().isEmpty()) {
      throw new IllegalArgumentException("not a cnn1d model: " + spec.type().wireName());
    }
    this.kernel = kernel;
    SequenceSpec s = spec.sequence().get();
    window = s.window();
    channels = s.channels(inputs);
    filters = s.units();
    kernelSize = s.kernelSize();
    padBefore = (kernelSize - 1) / 2;
    patch = kernelSize * channels;
    convWeightOffset = filters;
    convRows = new float[filters * patch + filters];
    convColumns = new float[patch * filters];
    head = new DenseNetwork(DenseNetwork.stackSizes(filters, spec.hiddenLayers()), kernel,
        filters + patch * filters, DenseNetwork.Head.of(spec), true);
  }

  @Override
  DenseNetwork head() {
    return head;
  }

  @Override
  long largestBufferPerRow() {
    return (long) window * Math.max(patch, filters);
  }

  @Override
  String describeBatch(int rows) {
    return "a batch of " + rows + " rows over a window of " + window + " steps of " + channels
        + " channels, kernel size " + kernelSize + " and " + filters + " filters";
  }

  @Override
  void allocate(int rows) {
    columns = new float[rows * window * patch];
    convolved = new float[rows * window * filters];
    argmax = new int[rows * filters];
    pooledError = new float[rows * filters];
  }

  @Override
  void forwardLayers(float[] parameters, int rows, RandomGenerator masks) {
    convolve(parameters, rows);
    pool(rows);
    head.forward(parameters, rows, masks);
  }

  /** im2col, then the ReLU convolution as one product: {@code convolved[(r*W + t)*N + n]}. */
  private void convolve(float[] parameters, int rows) {
    System.arraycopy(parameters, convWeightOffset, convColumns, 0, patch * filters);
    DenseNetwork.transpose(parameters, convWeightOffset, filters, patch, convRows);
    System.arraycopy(parameters, 0, convRows, filters * patch, filters);
    int rowWidth = channels * window;
    for (int r = 0; r < rows; r++) {
      for (int t = 0; t < window; t++) {
        int out = (r * window + t) * patch;
        for (int j = 0; j < kernelSize; j++) {
          int source = t + j - padBefore;
          boolean inside = source >= 0 && source < window;
          for (int c = 0; c < channels; c++) {
            columns[out + j * channels + c] = inside ? input[r * rowWidth + c * window + source] : 0f;
          }
        }
      }
    }
    kernel.forward(columns, rows * window, patch, convRows, 0, convColumns, filters * patch,
        convolved, filters);
    kernel.relu(convolved, rows * window * filters);
  }

  /** Global max pooling over time into the head's input; records each maximum's time step. */
  private void pool(int rows) {
    float[] pooled = head.inputBuffer(rows);
    for (int r = 0; r < rows; r++) {
      int base = r * window * filters;
      for (int n = 0; n < filters; n++) {
        float max = convolved[base + n];
        int at = 0;
        for (int t = 1; t < window; t++) {
          float v = convolved[base + t * filters + n];
          if (v > max) {
            max = v;
            at = t;
          }
        }
        pooled[r * filters + n] = max;
        argmax[r * filters + n] = at;
      }
    }
  }

  @Override
  public double backward(float[] parameters, int rows, double clipNorm, float[] gradient) {
    double loss = head.backpropagate(parameters, rows, pooledError);
    // the pooled error's mask is the convolution's ReLU at the pooled step (the pooled value is
    // positive exactly when that step's pre-activation is); head.inputBuffer holds the pooled
    // values before any dropout, whose mask backpropagate has already applied
    kernel.reluMask(pooledError, head.inputBuffer(rows), rows * filters);
    if (clipNorm > 0) {
      clip(rows, clipNorm);
    }
    head.writeGradient(rows, gradient);
    convolutionGradient(rows, gradient);
    return loss;
  }

  /** Each filter's error reaches one step: dW[i][n] = sum_r delta[r][n] col(r, argmax)[i]. */
  private void convolutionGradient(int rows, float[] gradient) {
    Arrays.fill(gradient, 0, convWeightOffset + patch * filters, 0f);
    for (int r = 0; r < rows; r++) {
      for (int n = 0; n < filters; n++) {
        float d = pooledError[r * filters + n];
        if (d == 0f) {
          continue;
        }
        gradient[n] += d;
        int column = (r * window + argmax[r * filters + n]) * patch;
        for (int i = 0; i < patch; i++) {
          gradient[convWeightOffset + i * filters + n] += d * columns[column + i];
        }
      }
    }
  }

  /**
   * Per-example squared norms (the head's, {@link DenseNetwork#exampleSquaredNorm}; convolution: per
   * filter {@code delta^2 (|col|^2 + 1)}), then each example's errors scaled so its gradient's norm is
   * at most the clip norm times {@link DenseNetwork#CLIP_MARGIN}.
   */
  private void clip(int rows, double clipNorm) {
    for (int r = 0; r < rows; r++) {
      double sum = head.exampleSquaredNorm(r);
      for (int n = 0; n < filters; n++) {
        double d = pooledError[r * filters + n];
        if (d != 0) {
          int column = (r * window + argmax[r * filters + n]) * patch;
          sum += d * d * (DenseNetwork.squaredNorm(columns, column, patch) + 1.0);
        }
      }
      squaredNorms[r] = sum;
      float scale = DenseNetwork.clipScale(sum, clipNorm);
      if (scale != 1f) {
        head.scaleExample(r, scale);
        for (int j = r * filters, end = j + filters; j < end; j++) {
          pooledError[j] *= scale;
        }
      }
    }
  }

  @Override
  public void addL2(float[] parameters, float[] gradient, float l2) {
    for (int i = convWeightOffset; i < convWeightOffset + patch * filters; i++) {
      gradient[i] += l2 * parameters[i];
    }
    head.addL2(parameters, gradient, l2);
  }
}
