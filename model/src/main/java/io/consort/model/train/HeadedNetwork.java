package io.consort.model.train;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * A native network whose feature layer (convolution, recurrence or attention) feeds a {@link DenseNetwork}
 * head: what the three share. It owns the batch's input rows and per-example squared norms and grows every
 * per-batch buffer together, refusing a batch whose largest buffer would not fit a Java array (a
 * {@code NegativeArraySizeException} otherwise), checks the parameters' length before every forward pass, and delegates the parameter
 * count, labels and logits to the head.
 */
abstract class HeadedNetwork implements NativeNetwork {
  private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

  private final int features;
  /** The batch's rows, {@code rows x features} row-major. */
  float[] input = new float[0];
  /** Per-example squared gradient norms of the last clipped backward pass. */
  double[] squaredNorms = new double[0];
  private int capacity;

  HeadedNetwork(int features) {
    this.features = features;
  }

  /** The dense head on the feature layer's output. */
  abstract DenseNetwork head();

  /** Values per example of the feature layer's largest per-batch buffer. */
  abstract long largestBufferPerRow();

  /** The batch for the refusal: "a batch of N rows over a window of ...". */
  abstract String describeBatch(int rows);

  /** Allocates the feature layer's per-batch buffers for batches of up to {@code rows}. */
  abstract void allocate(int rows);

  /**
   * The feature layer and the head on {@code parameters} (already checked to be {@link #parameterCount} long, the
   * buffers grown to {@code rows});
   * {@code masks} draws the head's input dropout, null when scoring (no dropout).
   */
  abstract void forwardLayers(float[] parameters, int rows, RandomGenerator masks);

  @Override
  public final void forward(float[] parameters, int rows) {
    checkedForward(parameters, rows, null);
  }

  @Override
  public final void forwardTraining(float[] parameters, int rows, RandomGenerator masks) {
    checkedForward(parameters, rows, masks);
  }

  private void checkedForward(float[] parameters, int rows, RandomGenerator masks) {
    if (parameters.length != parameterCount()) {
      throw new IllegalArgumentException(
          "expected " + parameterCount() + " parameters, got " + parameters.length);
    }
    ensureCapacity(rows);
    forwardLayers(parameters, rows, masks);
  }

  @Override
  public int parameterCount() {
    return head().parameterCount();
  }

  @Override
  public float[] inputBuffer(int rows) {
    ensureCapacity(rows);
    return input;
  }

  @Override
  public float[] labelBuffer(int rows) {
    ensureCapacity(rows);
    return head().labelBuffer(rows);
  }

  @Override
  public float[] logits() {
    return head().logits();
  }

  @Override
  public double[] squaredNorms() {
    return squaredNorms;
  }

  final void ensureCapacity(int rows) {
    if (rows <= capacity) {
      return;
    }
    int grown = Math.max(rows, capacity + (capacity >> 1));
    long perRow = Math.max(features, largestBufferPerRow());
    if (perRow * grown > MAX_ARRAY) {
      grown = rows;
      if (perRow * rows > MAX_ARRAY) {
        throw new IllegalArgumentException(describeBatch(rows)
            + " needs more than 2^31 values per buffer; use a smaller batch");
      }
    }
    input = Arrays.copyOf(input, grown * features);
    squaredNorms = new double[grown];
    allocate(grown);
    head().labelBuffer(grown);
    capacity = grown;
  }
}
