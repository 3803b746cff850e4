package io.consort.model.train;

/**
 * The three matrix products of a dense layer's passes over a batch, on row-major batch buffers and
 * Consort's flat parameters (per layer: {@code nOut} rows of {@code nIn} weights, row {@code j}
 * holding the weights into output unit {@code j}, which is DL4J's column-major {@code nIn x nOut}
 * and PyTorch's {@code Linear.weight}; then {@code nOut} biases). {@link DenseNetwork} does
 * everything else (loss, clipping, ReLU masks).
 *
 * <p>Two implementations: {@link VectorDenseKernel}, register-blocked on the JDK's Vector API
 * (jdk.incubator.vector, which a JDK 17 process has only when started with
 * {@code --add-modules jdk.incubator.vector}), and {@link ScalarDenseKernel}, plain loops the JIT
 * auto-vectorises, used when that module is absent. {@link #preferred()} picks one per process.
 * Implementations are stateless; callers pass their own scratch buffers.
 */
interface DenseKernel {

  /**
   * {@code out[r][j] = bias[j] + sum_i in[r][i] W[j][i]} for the first {@code rows} rows, where
   * {@code W} is the layer's weight block at {@code weightOffset} in {@code parameters} and
   * {@code transposed} the same weights laid out {@code nIn x nOut} row-major (the caller keeps it
   * current).
   */
  void forward(float[] in, int rows, int nIn, float[] parameters, int weightOffset,
      float[] transposed, int biasOffset, float[] out, int nOut);

  /**
   * {@code lower[r][i] = sum_j upper[r][j] W[j][i]} for the first {@code rows} rows: the error
   * propagated to the layer's inputs, before the caller's activation mask.
   */
  void backpropagate(float[] upper, int rows, int nOut, float[] parameters, int weightOffset,
      float[] lower, int nIn);

  /**
   * Writes the layer's gradient over the first {@code rows} rows into {@code gradient}:
   * {@code dW[j][i] = sum_r delta[r][j] in[r][i]} at {@code weightOffset} and
   * {@code db[j] = sum_r delta[r][j]} at {@code biasOffset}. {@code scratch} holds at least
   * {@code nIn * nOut} values.
   */
  void weightGradient(float[] in, float[] delta, int rows, int nIn, int nOut, float[] gradient,
      int weightOffset, int biasOffset, float[] scratch);

  /** {@code values[i] = max(values[i], 0)} for {@code i < length} (ReLU). */
  void relu(float[] values, int length);

  /**
   * {@code error[i] = 0} where {@code activation[i] <= 0}, for {@code i < length}: the error through
   * a ReLU, given the ReLU's output.
   */
  void reluMask(float[] error, float[] activation, int length);

  /** {@code values[i] = 1 / (1 + e^-values[i])} for {@code from <= i < from + length}. */
  void sigmoid(float[] values, int from, int length);

  /** {@code values[i] = tanh(values[i])} for {@code from <= i < from + length}. */
  void tanh(float[] values, int from, int length);

  /** What this kernel is, for logs and benchmark output. */
  String description();

  /** The kernel this process uses: {@link VectorDenseKernel} when its module is present. */
  static DenseKernel preferred() {
    return KernelChoice.PREFERRED;
  }

  /** The plain-Java kernel, available everywhere. */
  static DenseKernel scalar() {
    return ScalarDenseKernel.INSTANCE;
  }

  /**
   * The Vector API kernel, or null when this process cannot use it: jdk.incubator.vector is not in
   * the boot layer (it is resolved only when asked for with {@code --add-modules}), or the
   * platform's preferred float vector has fewer than 4 lanes, where the API's fallback would be
   * slower than plain loops.
   */
  static DenseKernel vectorOrNull() {
    return KernelChoice.VECTOR;
  }

  /** Holder: the choice is made once, on first use. */
  final class KernelChoice {
    static final DenseKernel VECTOR = loadVector();
    static final DenseKernel PREFERRED = VECTOR != null ? VECTOR : ScalarDenseKernel.INSTANCE;

    private KernelChoice() {}

    private static DenseKernel loadVector() {
      if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
        return null;
      }
      try {
        // By name, so that nothing here links against the module's classes.
        return (DenseKernel) Class.forName("io.consort.model.train.VectorDenseKernel")
            .getDeclaredMethod("createIfUseful").invoke(null);
      } catch (ReflectiveOperationException | LinkageError e) {
        return null;
      }
    }
  }
}
