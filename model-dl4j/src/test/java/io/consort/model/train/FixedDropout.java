package io.consort.model.train;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * A dropout mask DL4J can reproduce, to check the native networks' dropout against DL4J. A mask
 * source whose every 64-bit draw is {@code 0x00000000FFFFFFFF} keeps every even position of each
 * dropped layer's input buffer (its first 32-bit uniform is 0) and drops every odd one (its second
 * is {@code 2^32 - 1}): when every dropped layer is of even width, each example gets the same mask,
 * kept inputs {@code u} even, scaled by {@code 1 / keep}. Dropping input {@code u} of a layer with
 * mask {@code m_u} is the same as multiplying the weights from {@code u} by {@code m_u}, so the
 * native training pass with this mask equals DL4J's network without dropout on parameters
 * {@code w * m}, whose gradient times {@code m} is the native gradient ({@link #multipliers}).
 */
final class FixedDropout {
  static final RandomGenerator EVEN_KEPT = () -> 0x00000000FFFFFFFFL;

  private FixedDropout() {}

  /**
   * Per parameter of {@code spec}'s layout: {@code m_u} for the weights from input {@code u} of a
   * dense layer with dropout, 1 for every other parameter (all of them without dropout).
   */
  static float[] multipliers(ModelSpec spec, int inputs) {
    int count = ParameterLayout.of(spec, inputs).parameterCount();
    float[] m = new float[count];
    Arrays.fill(m, 1f);
    if (spec.dropout() == 0) {
      return m;
    }
    int[] sizes;
    int offset;
    int firstDropped;
    if (spec.type().isSequence()) {
      sizes = DenseNetwork.stackSizes(spec.sequence().orElseThrow().units(), spec.hiddenLayers());
      int head = 0;
      for (int l = 1; l < sizes.length; l++) {
        head += sizes[l - 1] * sizes[l] + sizes[l];
      }
      offset = count - head;
      firstDropped = 1;
    } else {
      sizes = spec.layerSizes(inputs);
      offset = 0;
      firstDropped = 2;
    }
    float kept = (float) (1 / (1 - spec.dropout()));
    for (int l = 1; l < sizes.length; l++) {
      int nIn = sizes[l - 1];
      if (l >= firstDropped) {
        if (nIn % 2 != 0) {
          throw new IllegalArgumentException("a dropped layer's input must be of even width: " + nIn);
        }
        for (int j = 0; j < sizes[l]; j++) {
          for (int u = 0; u < nIn; u++) {
            m[offset + j * nIn + u] = u % 2 == 0 ? kept : 0f;
          }
        }
      }
      offset += nIn * sizes[l] + sizes[l];
    }
    return m;
  }

  static float[] times(float[] values, float[] multipliers) {
    float[] out = values.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] *= multipliers[i];
    }
    return out;
  }

  /** {@code network} whose {@link NativeNetwork#forward} is its training pass with this mask. */
  static NativeNetwork training(NativeNetwork network) {
    return new NativeNetwork() {
      @Override
      public int parameterCount() {
        return network.parameterCount();
      }

      @Override
      public float[] inputBuffer(int rows) {
        return network.inputBuffer(rows);
      }

      @Override
      public float[] labelBuffer(int rows) {
        return network.labelBuffer(rows);
      }

      @Override
      public void forward(float[] parameters, int rows) {
        network.forwardTraining(parameters, rows, EVEN_KEPT);
      }

      @Override
      public float[] logits() {
        return network.logits();
      }

      @Override
      public double backward(float[] parameters, int rows, double clipNorm, float[] gradient) {
        return network.backward(parameters, rows, clipNorm, gradient);
      }

      @Override
      public double[] squaredNorms() {
        return network.squaredNorms();
      }

      @Override
      public void addL2(float[] parameters, float[] gradient, float l2) {
        network.addL2(parameters, gradient, l2);
      }
    };
  }
}
