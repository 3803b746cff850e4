package io.consort.scoring.explain;

import io.consort.model.train.ModelSpec;

/**
 * A trained network for scoring: the logits of rows and the gradient of the logit with respect to
 * the input, for a dense ReLU stack with one output, on flat parameters in DL4J's layout (per layer:
 * {@code nIn x nOut} weights column-major, then {@code nOut} biases).
 *
 * <p>The forward pass does the same float operations in the same order as the training kernel's
 * (and so as {@code Predictor}, which scored the banks' held-out rows for the evaluation histograms
 * the calibration was fitted on): the logits are bit for bit the same. The weights are laid out once
 * at construction; each call allocates its own scratch, so one instance serves any number of threads.
 */
public final class InferenceNetwork {
  private final int[] sizes;
  private final int layers;
  /** Per layer l (1-based): weights row-major {@code nIn x nOut}, i.e. the weights out of input i are contiguous. */
  private final float[][] weights;
  private final float[][] biases;

  /**
   * @throws IllegalArgumentException when {@code parameters} is not exactly the network's parameter count
   */
  public InferenceNetwork(ModelSpec spec, int inputs, float[] parameters) {
    this.sizes = spec.layerSizes(inputs);
    this.layers = sizes.length - 1;
    weights = new float[layers + 1][];
    biases = new float[layers + 1][];
    int offset = 0;
    for (int l = 1; l <= layers; l++) {
      int nIn = sizes[l - 1];
      int nOut = sizes[l];
      if (parameters.length < offset + nIn * nOut + nOut) {
        throw new IllegalArgumentException("the network " + java.util.Arrays.toString(sizes) + " needs more than the "
            + parameters.length + " parameters given");
      }
      float[] w = new float[nIn * nOut];
      for (int j = 0; j < nOut; j++) {
        for (int i = 0; i < nIn; i++) {
          w[i * nOut + j] = parameters[offset + j * nIn + i];
        }
      }
      weights[l] = w;
      offset += nIn * nOut;
      biases[l] = java.util.Arrays.copyOfRange(parameters, offset, offset + nOut);
      offset += nOut;
    }
    if (offset != parameters.length) {
      throw new IllegalArgumentException("the network " + java.util.Arrays.toString(sizes) + " has " + offset
          + " parameters, got " + parameters.length);
    }
  }

  /** Number of parameters of the dense stack {@code sizes}. */
  public static int parameterCount(int[] sizes) {
    int count = 0;
    for (int l = 1; l < sizes.length; l++) {
      count += sizes[l - 1] * sizes[l] + sizes[l];
    }
    return count;
  }

  public int inputs() {
    return sizes[0];
  }

  /** Whether the network is a logistic regression (no hidden layer). */
  public boolean isLinear() {
    return layers == 1;
  }

  /** The weight of input {@code i} in a linear network. */
  public float linearWeight(int i) {
    if (!isLinear()) {
      throw new IllegalStateException("the network has hidden layers");
    }
    return weights[1][i];
  }

  /** The logits of {@code rows} rows of {@code x} (row-major, {@link #inputs()} wide) into {@code out}. */
  public void logits(float[] x, int rows, float[] out) {
    float[][] activations = forward(x, rows);
    System.arraycopy(activations[layers], 0, out, 0, rows);
  }

  /** The logit of one row. */
  public float logit(float[] row) {
    return forward(row, 1)[layers][0];
  }

  /**
   * The integral of the logit's input gradient along the straight path from {@code from} to {@code
   * to}, {@code integral_0^1 grad f(from + a (to - from)) da}, computed exactly: a ReLU network is
   * affine between the points where some hidden unit's pre-activation changes sign, so the path is
   * walked from one such point to the next (each found in closed form, since every pre-activation
   * is affine in {@code a} while the units' on/off pattern holds) and each piece's constant gradient
   * is weighted by its length. In double precision; the pieces are at most {@value #MAX_PIECES}.
   *
   * @throws IllegalStateException when the path crosses more than {@value #MAX_PIECES} pieces
   */
  public PathIntegral pathIntegral(float[] from, float[] to) {
    int inputs = sizes[0];
    int width = maxWidth();
    // The first layer's pre-activations are affine in alpha along the whole path, z1 + alpha v1, and
    // the input gradient is W1 times the gradient at those pre-activations: both are done once, and
    // each piece costs only the layers above the first.
    double[] z1 = new double[sizes[1]];
    double[] v1 = new double[sizes[1]];
    for (int j = 0; j < sizes[1]; j++) {
      z1[j] = biases[1][j];
    }
    for (int i = 0; i < inputs; i++) {
      double a = from[i];
      double d = (double) to[i] - from[i];
      if (a == 0 && d == 0) {
        continue;
      }
      int t = i * sizes[1];
      for (int j = 0; j < sizes[1]; j++) {
        z1[j] += a * weights[1][t + j];
        v1[j] += d * weights[1][t + j];
      }
    }
    double[] accumulated = new double[sizes[1]];
    boolean[][] active = new boolean[layers + 1][];
    for (int l = 1; l < layers; l++) {
      active[l] = new boolean[sizes[l]];
    }
    double[] a = new double[width];
    double[] u = new double[width];
    double[] nextA = new double[width];
    double[] nextU = new double[width];
    double[] delta = new double[width];
    double[] below = new double[width];
    double alpha = 0;
    int pieces = 0;
    while (alpha < 1) {
      if (++pieces > MAX_PIECES) {
        throw new IllegalStateException("the path crosses more than " + MAX_PIECES + " linear pieces of the network");
      }
      double step = 1 - alpha;
      // each layer's pre-activations z and their rates of change v along the path, at alpha; a
      // hidden unit is on for this piece if positive, or at zero and rising
      for (int l = 1; l <= layers; l++) {
        int nOut = sizes[l];
        boolean hidden = l < layers;
        for (int j = 0; j < nOut; j++) {
          double z;
          double v;
          if (l == 1) {
            z = z1[j] + alpha * v1[j];
            v = v1[j];
          } else {
            z = biases[l][j];
            v = 0;
            int nIn = sizes[l - 1];
            float[] w = weights[l];
            for (int i = 0; i < nIn; i++) {
              if (a[i] != 0 || u[i] != 0) {
                z += a[i] * w[i * nOut + j];
                v += u[i] * w[i * nOut + j];
              }
            }
          }
          if (hidden) {
            boolean on = z > 0 || (z == 0 && v > 0);
            active[l][j] = on;
            nextA[j] = on ? z : 0;
            nextU[j] = on ? v : 0;
            // where the unit changes sign, if it does ahead on the path
            if ((on && v < 0) || (!on && v > 0)) {
              step = Math.min(step, -z / v);
            }
          }
        }
        double[] swap = a;
        a = nextA;
        nextA = swap;
        swap = u;
        u = nextU;
        nextU = swap;
      }
      // this piece's constant gradient with respect to the first layer's pre-activations: back
      // through the units that are on, down to (not through) the first weight layer
      delta[0] = 1;
      for (int l = layers; l >= 2; l--) {
        int nIn = sizes[l - 1];
        int nOut = sizes[l];
        float[] w = weights[l];
        for (int i = 0; i < nIn; i++) {
          double s = 0;
          if (active[l - 1][i]) {
            int t = i * nOut;
            for (int j = 0; j < nOut; j++) {
              s += w[t + j] * delta[j];
            }
          }
          below[i] = s;
        }
        double[] swap = delta;
        delta = below;
        below = swap;
      }
      // a crossing predicted at (or, by rounding, just after) alpha itself would stall the walk: a
      // piece is at least MIN_PIECE long, which moves the integral by at most that times a gradient jump
      double length = Math.min(Math.max(step, MIN_PIECE), 1 - alpha);
      for (int j = 0; j < sizes[1]; j++) {
        accumulated[j] += delta[j] * length;
      }
      alpha = length >= 1 - alpha ? 1 : alpha + length;
    }
    double[] integral = new double[inputs];
    for (int i = 0; i < inputs; i++) {
      double s = 0;
      int t = i * sizes[1];
      for (int j = 0; j < sizes[1]; j++) {
        s += weights[1][t + j] * accumulated[j];
      }
      integral[i] = s;
    }
    return new PathIntegral(integral, pieces);
  }

  /** Shortest piece of the path walked, so that rounding at a crossing cannot stall the walk. */
  static final double MIN_PIECE = 1e-12;

  /** Most linear pieces a path may cross before {@link #pathIntegral} gives up. */
  public static final int MAX_PIECES = 100_000;

  /**
   * @param gradient {@code integral_0^1 grad f(from + a (to - from)) da}, per input
   * @param pieces the linear pieces of the network the path crossed
   */
  public record PathIntegral(double[] gradient, int pieces) {
    public PathIntegral {
      gradient = gradient.clone();
    }

    @Override
    public double[] gradient() {
      return gradient.clone();
    }
  }

  /** The logit of one row in double precision, the arithmetic {@link #pathIntegral} integrates. */
  public double logitInDouble(float[] row) {
    double[] a = new double[maxWidth()];
    double[] next = new double[maxWidth()];
    for (int i = 0; i < sizes[0]; i++) {
      a[i] = row[i];
    }
    for (int l = 1; l <= layers; l++) {
      int nIn = sizes[l - 1];
      int nOut = sizes[l];
      for (int j = 0; j < nOut; j++) {
        next[j] = biases[l][j];
      }
      for (int i = 0; i < nIn; i++) {
        int t = i * nOut;
        for (int j = 0; j < nOut; j++) {
          next[j] += a[i] * weights[l][t + j];
        }
      }
      for (int j = 0; j < nOut; j++) {
        a[j] = l < layers && next[j] < 0 ? 0 : next[j];
      }
    }
    return a[0];
  }

  private int maxWidth() {
    int max = 0;
    for (int size : sizes) {
      max = Math.max(max, size);
    }
    return max;
  }

  /** Every layer's activations for {@code rows} rows; the training kernel's operations, in its order. */
  private float[][] forward(float[] x, int rows) {
    float[][] a = new float[layers + 1][];
    a[0] = x;
    for (int l = 1; l <= layers; l++) {
      int nIn = sizes[l - 1];
      int nOut = sizes[l];
      float[] w = weights[l];
      float[] in = a[l - 1];
      float[] out = new float[rows * nOut];
      boolean hidden = l < layers;
      for (int r = 0; r < rows; r++) {
        int o = r * nOut;
        System.arraycopy(biases[l], 0, out, o, nOut);
        int base = r * nIn;
        for (int i = 0; i < nIn; i++) {
          float v = in[base + i];
          if (v != 0f) {
            int t = i * nOut;
            for (int j = 0; j < nOut; j++) {
              out[o + j] += v * w[t + j];
            }
          }
        }
        if (hidden) {
          for (int j = 0; j < nOut; j++) {
            if (out[o + j] < 0f) {
              out[o + j] = 0f;
            }
          }
        }
      }
      a[l] = out;
    }
    return a;
  }
}
