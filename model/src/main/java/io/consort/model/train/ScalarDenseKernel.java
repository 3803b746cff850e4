package io.consort.model.train;

import java.util.Arrays;

/**
 * The dense products in plain Java, for processes without jdk.incubator.vector: loops over one row
 * at a time whose innermost index is contiguous, so that the JIT vectorises them, and which skip
 * zero inputs and errors (one-hot features, ReLU outputs). Memory-bound (every multiply-add loads
 * and stores its output), so several times slower than {@link VectorDenseKernel} at large batches.
 */
final class ScalarDenseKernel implements DenseKernel {
  static final ScalarDenseKernel INSTANCE = new ScalarDenseKernel();

  private ScalarDenseKernel() {}

  @Override
  public String description() {
    return "scalar (plain Java loops)";
  }

  @Override
  public void relu(float[] values, int length) {
    for (int i = 0; i < length; i++) {
      if (values[i] < 0f) {
        values[i] = 0f;
      }
    }
  }

  @Override
  public void sigmoid(float[] values, int from, int length) {
    for (int i = from; i < from + length; i++) {
      values[i] = (float) (1.0 / (1.0 + Math.exp(-values[i])));
    }
  }

  /**
   * Through the intrinsic {@link Math#exp}, several times faster than {@link Math#tanh} (which
   * JDK 17 computes in software); in double, so the cancellation near 0 costs nothing a float keeps.
   */
  @Override
  public void tanh(float[] values, int from, int length) {
    for (int i = from; i < from + length; i++) {
      values[i] = (float) (1.0 - 2.0 / (1.0 + Math.exp(2.0 * values[i])));
    }
  }

  @Override
  public void reluMask(float[] error, float[] activation, int length) {
    for (int i = 0; i < length; i++) {
      if (activation[i] <= 0f) {
        error[i] = 0f;
      }
    }
  }

  @Override
  public void forward(float[] in, int rows, int nIn, float[] parameters, int weightOffset,
      float[] transposed, int biasOffset, float[] out, int nOut) {
    for (int r = 0; r < rows; r++) {
      int o = r * nOut;
      System.arraycopy(parameters, biasOffset, out, o, nOut);
      int a = r * nIn;
      for (int i = 0; i < nIn; i++) {
        float x = in[a + i];
        if (x != 0f) {
          int t = i * nOut;
          for (int j = 0; j < nOut; j++) {
            out[o + j] += x * transposed[t + j];
          }
        }
      }
    }
  }

  @Override
  public void backpropagate(float[] upper, int rows, int nOut, float[] parameters,
      int weightOffset, float[] lower, int nIn) {
    Arrays.fill(lower, 0, rows * nIn, 0f);
    for (int r = 0; r < rows; r++) {
      int o = r * nIn;
      for (int j = 0; j < nOut; j++) {
        float d = upper[r * nOut + j];
        if (d != 0f) {
          int c = weightOffset + j * nIn;
          for (int i = 0; i < nIn; i++) {
            lower[o + i] += d * parameters[c + i];
          }
        }
      }
    }
  }

  @Override
  public void weightGradient(float[] in, float[] delta, int rows, int nIn, int nOut,
      float[] gradient, int weightOffset, int biasOffset, float[] scratch) {
    Arrays.fill(gradient, weightOffset, weightOffset + nIn * nOut, 0f);
    Arrays.fill(gradient, biasOffset, biasOffset + nOut, 0f);
    for (int r = 0; r < rows; r++) {
      int a = r * nIn;
      for (int j = 0; j < nOut; j++) {
        float d = delta[r * nOut + j];
        if (d != 0f) {
          int g = weightOffset + j * nIn;
          for (int i = 0; i < nIn; i++) {
            gradient[g + i] += d * in[a + i];
          }
          gradient[biasOffset + j] += d;
        }
      }
    }
  }
}
