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
 * <p>Every product has the shape {@code C[p][x] = sum_k A(p, k) B[k][x]} with {@code B} row-major
 * and {@code x} contiguous in {@code B} and {@code C}. The micro-kernel keeps a block of 4 rows of
 * {@code C} by 2 vectors in 8 accumulator registers and, per step of {@code k}, loads 2 vectors of
 * {@code B}, broadcasts 4 scalars of {@code A} and issues 8 fused multiply-adds: the loads are
 * amortised over many multiply-adds (the scalar kernel loads and stores its output in every
 * multiply-add), and 8 independent accumulation chains hide the FMA latency. The forward pass
 * reads the weights transposed ({@code nIn x nOut}, so that outputs are contiguous), the
 * backward pass reads them as stored, and the weight gradient is a product over the batch
 * ({@link #tn}); small widths (the one-unit output layer) use dot products instead.
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
    if (nIn >= L && (nIn % L == 0 || nIn >= nOut)) {
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
    if (rows < 4) {
      for (int r = 0; r < rows; r++) {
        nnRow(a, r, inner, b, bOff, width, c, init, initOff);
      }
      return;
    }
    int r = 0;
    for (; r + 4 <= rows; r += 4) {
      nnRows4(a, r, inner, b, bOff, width, c, init, initOff);
    }
    if (r < rows) {
      // The last rows as one more 4-row block that overlaps the previous one: the overlapped rows
      // are recomputed in the same order, so to the same values, and no row runs alone.
      nnRows4(a, rows - 4, inner, b, bOff, width, c, init, initOff);
    }
  }

  private static void nnRows4(float[] a, int r, int inner, float[] b, int bOff, int width,
      float[] c, float[] init, int initOff) {
    int x = 0;
    for (; x + L2 <= width; x += L2) {
      nn4x2(a, r, inner, b, bOff, width, x, c, init, initOff);
    }
    for (; x + L <= width; x += L) {
      for (int q = r; q < r + 4; q++) {
        nn1x1(a, q, inner, b, bOff, width, x, c, init, initOff);
      }
    }
    for (; x < width; x++) {
      for (int q = r; q < r + 4; q++) {
        nnScalar(a, q, inner, b, bOff, width, x, c, init, initOff);
      }
    }
  }

  private static void nnRow(float[] a, int r, int inner, float[] b, int bOff, int width,
      float[] c, float[] init, int initOff) {
    int x = 0;
    for (; x + L <= width; x += L) {
      nn1x1(a, r, inner, b, bOff, width, x, c, init, initOff);
    }
    for (; x < width; x++) {
      nnScalar(a, r, inner, b, bOff, width, x, c, init, initOff);
    }
  }

  private static void nn4x2(float[] a, int r, int inner, float[] b, int bOff, int width, int x,
      float[] c, float[] init, int initOff) {
    FloatVector c00;
    FloatVector c01;
    if (init != null) {
      c00 = FloatVector.fromArray(S, init, initOff + x);
      c01 = FloatVector.fromArray(S, init, initOff + x + L);
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
    int a0 = r * inner;
    int a1 = a0 + inner;
    int a2 = a1 + inner;
    int a3 = a2 + inner;
    int bi = bOff + x;
    for (int k = 0; k < inner; k++, bi += width) {
      FloatVector b0 = FloatVector.fromArray(S, b, bi);
      FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
      FloatVector v = FloatVector.broadcast(S, a[a0 + k]);
      c00 = b0.fma(v, c00);
      c01 = b1.fma(v, c01);
      v = FloatVector.broadcast(S, a[a1 + k]);
      c10 = b0.fma(v, c10);
      c11 = b1.fma(v, c11);
      v = FloatVector.broadcast(S, a[a2 + k]);
      c20 = b0.fma(v, c20);
      c21 = b1.fma(v, c21);
      v = FloatVector.broadcast(S, a[a3 + k]);
      c30 = b0.fma(v, c30);
      c31 = b1.fma(v, c31);
    }
    int o = r * width + x;
    c00.intoArray(c, o);
    c01.intoArray(c, o + L);
    o += width;
    c10.intoArray(c, o);
    c11.intoArray(c, o + L);
    o += width;
    c20.intoArray(c, o);
    c21.intoArray(c, o + L);
    o += width;
    c30.intoArray(c, o);
    c31.intoArray(c, o + L);
  }

  private static void nn1x1(float[] a, int r, int inner, float[] b, int bOff, int width, int x,
      float[] c, float[] init, int initOff) {
    FloatVector acc = init != null ? FloatVector.fromArray(S, init, initOff + x)
        : FloatVector.zero(S);
    int a0 = r * inner;
    int bi = bOff + x;
    for (int k = 0; k < inner; k++, bi += width) {
      acc = FloatVector.fromArray(S, b, bi).fma(FloatVector.broadcast(S, a[a0 + k]), acc);
    }
    acc.intoArray(c, r * width + x);
  }

  private static void nnScalar(float[] a, int r, int inner, float[] b, int bOff, int width,
      int x, float[] c, float[] init, int initOff) {
    float sum = init != null ? init[initOff + x] : 0f;
    for (int k = 0; k < inner; k++) {
      sum = Math.fma(a[r * inner + k], b[bOff + k * width + x], sum);
    }
    c[r * width + x] = sum;
  }

  /**
   * {@code c[cOff + p*w + x] = sum_r xs[r][p] ys[r][x]} for {@code p < m}, {@code x < w}: a product
   * over the batch of {@code xs} ({@code rows x m}) transposed and {@code ys} ({@code rows x w}).
   */
  private static void tn(float[] xs, int m, float[] ys, int w, int rows, float[] c, int cOff) {
    if (m < 4) {
      for (int p = 0; p < m; p++) {
        tnRow(xs, m, p, ys, w, rows, c, cOff);
      }
      return;
    }
    int p = 0;
    for (; p + 4 <= m; p += 4) {
      tnRows4(xs, m, p, ys, w, rows, c, cOff);
    }
    if (p < m) {
      // as in nn: one more overlapping 4-row block rather than latency-bound single rows
      tnRows4(xs, m, m - 4, ys, w, rows, c, cOff);
    }
  }

  private static void tnRows4(float[] xs, int m, int p, float[] ys, int w, int rows, float[] c,
      int cOff) {
    int x = 0;
    for (; x + L2 <= w; x += L2) {
      tn4x2(xs, m, p, ys, w, x, rows, c, cOff);
    }
    for (; x + L <= w; x += L) {
      for (int q = p; q < p + 4; q++) {
        tn1x1(xs, m, q, ys, w, x, rows, c, cOff);
      }
    }
    for (; x < w; x++) {
      for (int q = p; q < p + 4; q++) {
        tnScalar(xs, m, q, ys, w, x, rows, c, cOff);
      }
    }
  }

  private static void tnRow(float[] xs, int m, int p, float[] ys, int w, int rows, float[] c,
      int cOff) {
    int x = 0;
    for (; x + L <= w; x += L) {
      tn1x1(xs, m, p, ys, w, x, rows, c, cOff);
    }
    for (; x < w; x++) {
      tnScalar(xs, m, p, ys, w, x, rows, c, cOff);
    }
  }

  private static void tn4x2(float[] xs, int m, int p, float[] ys, int w, int x, int rows,
      float[] c, int cOff) {
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = c00;
    FloatVector c10 = c00;
    FloatVector c11 = c00;
    FloatVector c20 = c00;
    FloatVector c21 = c00;
    FloatVector c30 = c00;
    FloatVector c31 = c00;
    int xi = p;
    int yi = x;
    for (int r = 0; r < rows; r++, xi += m, yi += w) {
      FloatVector y0 = FloatVector.fromArray(S, ys, yi);
      FloatVector y1 = FloatVector.fromArray(S, ys, yi + L);
      FloatVector v = FloatVector.broadcast(S, xs[xi]);
      c00 = y0.fma(v, c00);
      c01 = y1.fma(v, c01);
      v = FloatVector.broadcast(S, xs[xi + 1]);
      c10 = y0.fma(v, c10);
      c11 = y1.fma(v, c11);
      v = FloatVector.broadcast(S, xs[xi + 2]);
      c20 = y0.fma(v, c20);
      c21 = y1.fma(v, c21);
      v = FloatVector.broadcast(S, xs[xi + 3]);
      c30 = y0.fma(v, c30);
      c31 = y1.fma(v, c31);
    }
    int o = cOff + p * w + x;
    c00.intoArray(c, o);
    c01.intoArray(c, o + L);
    o += w;
    c10.intoArray(c, o);
    c11.intoArray(c, o + L);
    o += w;
    c20.intoArray(c, o);
    c21.intoArray(c, o + L);
    o += w;
    c30.intoArray(c, o);
    c31.intoArray(c, o + L);
  }

  /** One row of the product, two interleaved accumulators to halve the FMA latency chain. */
  private static void tn1x1(float[] xs, int m, int p, float[] ys, int w, int x, int rows,
      float[] c, int cOff) {
    FloatVector even = FloatVector.zero(S);
    FloatVector odd = even;
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
      even = FloatVector.fromArray(S, ys, r * w + x)
          .fma(FloatVector.broadcast(S, xs[r * m + p]), even);
      odd = FloatVector.fromArray(S, ys, (r + 1) * w + x)
          .fma(FloatVector.broadcast(S, xs[(r + 1) * m + p]), odd);
    }
    if (r < rows) {
      even = FloatVector.fromArray(S, ys, r * w + x)
          .fma(FloatVector.broadcast(S, xs[r * m + p]), even);
    }
    even.add(odd).intoArray(c, cOff + p * w + x);
  }

  private static void tnScalar(float[] xs, int m, int p, float[] ys, int w, int x, int rows,
      float[] c, int cOff) {
    float sum = 0f;
    for (int r = 0; r < rows; r++) {
      sum = Math.fma(xs[r * m + p], ys[r * w + x], sum);
    }
    c[cOff + p * w + x] = sum;
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
