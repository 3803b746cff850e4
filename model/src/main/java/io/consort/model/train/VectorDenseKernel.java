package io.consort.model.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The dense products as register-blocked matrix multiplications on the JDK's Vector API
 * (jdk.incubator.vector, JDK 17's second incubator: the process must be started with
 * {@code --add-modules jdk.incubator.vector}; {@link DenseKernel#preferred()} falls back to
 * {@link ScalarDenseKernel} otherwise, and only loads this class by name when the module is there).
 *
 * <p>Every product has the shape {@code C[p][x] = sum_t A(p, t) B[t][x]} with {@code B} and
 * {@code C} row-major, {@code x} contiguous, and {@code A} read at any two strides ({@link
 * #product}). The micro-kernel keeps a block of 4 rows of {@code C} by 2 vectors in 8 accumulator
 * registers and, per step of {@code t}, loads 2 vectors of {@code B}, broadcasts 4 scalars of
 * {@code A} and issues 8 fused multiply-adds: the loads are amortised over many multiply-adds (the
 * scalar kernel loads and stores its output in every multiply-add), and 8 independent
 * accumulation chains hide the FMA latency. The forward pass reads the weights transposed
 * ({@code nIn x nOut}, so that outputs are contiguous) and the backward pass as stored, with the
 * batch rows as {@code p}; the weight gradient is a product over the batch ({@code t} runs over
 * the rows); the one-unit output layer's forward pass uses dot products instead.
 *
 * <p>Sums are in float with FMA, in a different order from DL4J's and the scalar kernel's; tests
 * hold the gradients to DL4J's within the same relative tolerance as the scalar kernel.
 * Vectors never cross a method boundary here (a vector argument to a method the JIT does not
 * inline would be boxed), so each micro-kernel is one method over arrays and offsets.
 */
final class VectorDenseKernel implements DenseKernel {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final int L2 = 2 * L;

  private VectorDenseKernel() {}

  /** Called by name from {@link DenseKernel.KernelChoice}: null where vectors are too narrow. */
  static DenseKernel createIfUseful() {
    return L >= 4 ? new VectorDenseKernel() : null;
  }

  @Override
  public String description() {
    return "Vector API (" + S.vectorBitSize() + "-bit, " + L + " float lanes)";
  }

  @Override
  public void forward(float[] in, int rows, int nIn, float[] parameters, int weightOffset,
      float[] transposed, int biasOffset, float[] out, int nOut) {
    if (nOut >= L) {
      nn(in, rows, nIn, transposed, 0, nOut, out, parameters, biasOffset);
    } else {
      dotRows(in, rows, nIn, parameters, weightOffset, biasOffset, out, nOut);
    }
  }

  @Override
  public void backpropagate(float[] upper, int rows, int nOut, float[] parameters,
      int weightOffset, float[] lower, int nIn) {
    if (nIn >= L) {
      nn(upper, rows, nOut, parameters, weightOffset, nIn, lower, null, 0);
    } else {
      ScalarDenseKernel.INSTANCE.backpropagate(upper, rows, nOut, parameters, weightOffset,
          lower, nIn);
    }
  }

  @Override
  public void weightGradient(float[] in, float[] delta, int rows, int nIn, int nOut,
      float[] gradient, int weightOffset, int biasOffset, float[] scratch) {
    // Either orientation leaves a scalar tail: (nIn % L) x nOut products per row as stored,
    // (nOut % L) x nIn transposed; take the smaller (as stored on a tie: no transposition). For a
    // recurrent layer's [x_t, h_{t-1}] of 2 + 16 inputs into 16 units, transposed has none.
    if (nIn >= L && (nOut < L || (nIn % L) * nOut <= (nOut % L) * nIn)) {
      // dW as stored: nOut x nIn, vectorised along the inputs.
      tn(delta, nOut, in, nIn, rows, gradient, weightOffset);
    } else if (nOut >= L) {
      // dW transposed (nIn x nOut, vectorised along the outputs), then stored transposed back.
      tn(in, nIn, delta, nOut, rows, scratch, 0);
      for (int i = 0; i < nIn; i++) {
        for (int j = 0; j < nOut; j++) {
          gradient[weightOffset + j * nIn + i] = scratch[i * nOut + j];
        }
      }
    } else {
      ScalarDenseKernel.INSTANCE.weightGradient(in, delta, rows, nIn, nOut, gradient,
          weightOffset, biasOffset, scratch);
      return;
    }
    biasGradient(delta, rows, nOut, gradient, biasOffset);
  }

  /** {@code values[i] = max(values[i], 0)}. */
  @Override
  public void relu(float[] values, int length) {
    int i = 0;
    FloatVector zero = FloatVector.zero(S);
    for (; i + L <= length; i += L) {
      FloatVector.fromArray(S, values, i).max(zero).intoArray(values, i);
    }
    for (; i < length; i++) {
      if (values[i] < 0f) {
        values[i] = 0f;
      }
    }
  }

  /** On the JDK's vector math (Intel SVML stubs on x86-64), in float. */
  @Override
  public void sigmoid(float[] values, int from, int length) {
    int i = from;
    int end = from + length;
    FloatVector one = FloatVector.broadcast(S, 1f);
    for (; i + L <= end; i += L) {
      FloatVector e = FloatVector.fromArray(S, values, i).neg().lanewise(VectorOperators.EXP);
      one.div(e.add(one)).intoArray(values, i);
    }
    ScalarDenseKernel.INSTANCE.sigmoid(values, i, end - i);
  }

  @Override
  public void tanh(float[] values, int from, int length) {
    int i = from;
    int end = from + length;
    for (; i + L <= end; i += L) {
      FloatVector.fromArray(S, values, i).lanewise(VectorOperators.TANH).intoArray(values, i);
    }
    ScalarDenseKernel.INSTANCE.tanh(values, i, end - i);
  }

  /** {@code error[i] = 0} where {@code activation[i] <= 0}. */
  @Override
  public void reluMask(float[] error, float[] activation, int length) {
    int i = 0;
    FloatVector zero = FloatVector.zero(S);
    for (; i + L <= length; i += L) {
      FloatVector a = FloatVector.fromArray(S, activation, i);
      FloatVector.fromArray(S, error, i).blend(zero, a.compare(VectorOperators.LE, 0f))
          .intoArray(error, i);
    }
    for (; i < length; i++) {
      if (activation[i] <= 0f) {
        error[i] = 0f;
      }
    }
  }

  /**
   * {@code c[r][x] = init[x] + sum_k a[r][k] b[k][x]} for {@code r < rows}, {@code x < width};
   * {@code a} is {@code rows x inner}, {@code b} (at {@code bOff}) {@code inner x width}, all
   * row-major; no {@code init} means 0.
   */
  private static void nn(float[] a, int rows, int inner, float[] b, int bOff, int width,
      float[] c, float[] init, int initOff) {
    product(a, inner, 1, b, bOff, width, inner, c, 0, rows, init, initOff);
  }

  /**
   * {@code c[cOff + p*w + x] = sum_r xs[r][p] ys[r][x]} for {@code p < m}, {@code x < w}: a product
   * over the batch of {@code xs} ({@code rows x m}) transposed and {@code ys} ({@code rows x w}).
   */
  private static void tn(float[] xs, int m, float[] ys, int w, int rows, float[] c, int cOff) {
    product(xs, 1, m, ys, 0, w, rows, c, cOff, m, null, 0);
  }

  /**
   * The one product both shapes reduce to: {@code C[p][x] = init[x] + sum_{t < steps} A(p, t)
   * B[t][x]} for {@code p < rows}, {@code x < width}, where {@code A(p, t) = a[p*aRow + t*aStep]},
   * {@code B[t][x] = b[bOff + t*width + x]} and {@code C[p][x] = c[cOff + p*width + x]}.
   */
  private static void product(float[] a, int aRow, int aStep, float[] b, int bOff, int width,
      int steps, float[] c, int cOff, int rows, float[] init, int initOff) {
    if (rows < 4) {
      for (int p = 0; p < rows; p++) {
        productRow(a, p * aRow, aStep, b, bOff, width, steps, c, cOff + p * width, init, initOff);
      }
      return;
    }
    int p = 0;
    for (; p + 4 <= rows; p += 4) {
      productRows4(a, p, aRow, aStep, b, bOff, width, steps, c, cOff, init, initOff);
    }
    if (p < rows) {
      // The last rows as one more 4-row block that overlaps the previous one: the overlapped rows
      // are recomputed in the same order, so to the same values, and no row runs alone.
      productRows4(a, rows - 4, aRow, aStep, b, bOff, width, steps, c, cOff, init, initOff);
    }
  }

  /** Rows {@code p..p+3} of {@link #product}, every column. */
  private static void productRows4(float[] a, int p, int aRow, int aStep, float[] b, int bOff,
      int width, int steps, float[] c, int cOff, float[] init, int initOff) {
    int x = 0;
    for (; x + L2 <= width; x += L2) {
      block4x2(a, p * aRow, aRow, aStep, b, bOff + x, width, steps, c, cOff + p * width + x,
          init, initOff + x);
    }
    for (int q = p; q < p + 4; q++) {
      columns(a, q * aRow, aStep, b, bOff, width, x, steps, c, cOff + q * width, init, initOff);
    }
  }

  /** Row {@code a0} of {@link #product}, every column. */
  private static void productRow(float[] a, int a0, int aStep, float[] b, int bOff, int width,
      int steps, float[] c, int c0, float[] init, int initOff) {
    columns(a, a0, aStep, b, bOff, width, 0, steps, c, c0, init, initOff);
  }

  /** Columns {@code from..width-1} of one row: whole vectors, then scalars. */
  private static void columns(float[] a, int a0, int aStep, float[] b, int bOff, int width,
      int from, int steps, float[] c, int c0, float[] init, int initOff) {
    int x = from;
    for (; x + L <= width; x += L) {
      row1x1(a, a0, aStep, b, bOff + x, width, steps, c, c0 + x, init, initOff + x);
    }
    for (; x < width; x++) {
      float sum = init != null ? init[initOff + x] : 0f;
      for (int t = 0; t < steps; t++) {
        sum = Math.fma(a[a0 + t * aStep], b[bOff + t * width + x], sum);
      }
      c[c0 + x] = sum;
    }
  }

  /**
   * The micro-kernel: 4 rows by 2 vectors of {@code C} in 8 accumulators; each step loads 2
   * vectors of {@code B}, broadcasts 4 values of {@code A} and issues 8 FMAs.
   */
  private static void block4x2(float[] a, int a0, int aRow, int aStep, float[] b, int b0,
      int bStep, int steps, float[] c, int c0, float[] init, int init0) {
    FloatVector c00;
    FloatVector c01;
    if (init != null) {
      c00 = FloatVector.fromArray(S, init, init0);
      c01 = FloatVector.fromArray(S, init, init0 + L);
    } else {
      c00 = FloatVector.zero(S);
      c01 = c00;
    }
    FloatVector c10 = c00;
    FloatVector c11 = c01;
    FloatVector c20 = c00;
    FloatVector c21 = c01;
    FloatVector c30 = c00;
    FloatVector c31 = c01;
    int a1 = a0 + aRow;
    int a2 = a1 + aRow;
    int a3 = a2 + aRow;
    for (int t = 0, ai = 0, bi = b0; t < steps; t++, ai += aStep, bi += bStep) {
      FloatVector b0v = FloatVector.fromArray(S, b, bi);
      FloatVector b1v = FloatVector.fromArray(S, b, bi + L);
      FloatVector v = FloatVector.broadcast(S, a[a0 + ai]);
      c00 = b0v.fma(v, c00);
      c01 = b1v.fma(v, c01);
      v = FloatVector.broadcast(S, a[a1 + ai]);
      c10 = b0v.fma(v, c10);
      c11 = b1v.fma(v, c11);
      v = FloatVector.broadcast(S, a[a2 + ai]);
      c20 = b0v.fma(v, c20);
      c21 = b1v.fma(v, c21);
      v = FloatVector.broadcast(S, a[a3 + ai]);
      c30 = b0v.fma(v, c30);
      c31 = b1v.fma(v, c31);
    }
    int width = bStep;
    c00.intoArray(c, c0);
    c01.intoArray(c, c0 + L);
    c10.intoArray(c, c0 + width);
    c11.intoArray(c, c0 + width + L);
    c20.intoArray(c, c0 + 2 * width);
    c21.intoArray(c, c0 + 2 * width + L);
    c30.intoArray(c, c0 + 3 * width);
    c31.intoArray(c, c0 + 3 * width + L);
  }

  /** One row by one vector, two interleaved accumulators to halve the FMA latency chain. */
  private static void row1x1(float[] a, int a0, int aStep, float[] b, int b0, int bStep,
      int steps, float[] c, int c0, float[] init, int init0) {
    FloatVector even = init != null ? FloatVector.fromArray(S, init, init0) : FloatVector.zero(S);
    FloatVector odd = FloatVector.zero(S);
    int t = 0;
    for (; t + 2 <= steps; t += 2) {
      even = FloatVector.fromArray(S, b, b0 + t * bStep)
          .fma(FloatVector.broadcast(S, a[a0 + t * aStep]), even);
      odd = FloatVector.fromArray(S, b, b0 + (t + 1) * bStep)
          .fma(FloatVector.broadcast(S, a[a0 + (t + 1) * aStep]), odd);
    }
    if (t < steps) {
      even = FloatVector.fromArray(S, b, b0 + t * bStep)
          .fma(FloatVector.broadcast(S, a[a0 + t * aStep]), even);
    }
    even.add(odd).intoArray(c, c0);
  }

  /** {@code out[r][j] = bias[j] + in[r] . W[j]}, for layers narrower than one vector. */
  private static void dotRows(float[] in, int rows, int nIn, float[] parameters,
      int weightOffset, int biasOffset, float[] out, int nOut) {
    for (int r = 0; r < rows; r++) {
      int a = r * nIn;
      for (int j = 0; j < nOut; j++) {
        int w = weightOffset + j * nIn;
        int i = 0;
        float sum = 0f;
        if (nIn >= L) {
          FloatVector acc = FloatVector.zero(S);
          for (; i + L <= nIn; i += L) {
            acc = FloatVector.fromArray(S, in, a + i).fma(FloatVector.fromArray(S, parameters, w + i),
                acc);
          }
          sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < nIn; i++) {
          sum = Math.fma(in[a + i], parameters[w + i], sum);
        }
        out[r * nOut + j] = parameters[biasOffset + j] + sum;
      }
    }
  }

  /** {@code gradient[biasOffset + j] = sum_r delta[r][j]}. */
  private static void biasGradient(float[] delta, int rows, int nOut, float[] gradient,
      int biasOffset) {
    int x = 0;
    for (; x + L <= nOut; x += L) {
      FloatVector acc = FloatVector.zero(S);
      for (int r = 0, d = x; r < rows; r++, d += nOut) {
        acc = acc.add(FloatVector.fromArray(S, delta, d));
      }
      acc.intoArray(gradient, biasOffset + x);
    }
    for (; x < nOut; x++) {
      float sum = 0f;
      for (int r = 0; r < rows; r++) {
        sum += delta[r * nOut + x];
      }
      gradient[biasOffset + x] = sum;
    }
  }
}
