package io.consort.scoring.explain;

import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelSpec;

/**
 * A trained network for scoring: the logits of rows and the gradient of the logit with respect to
 * the input, for any dense stack a job can define (hidden layers of ReLU, tanh or sigmoid, one
 * output), on flat parameters in DL4J's layout (per layer: {@code nIn x nOut} weights column-major,
 * then {@code nOut} biases). The logit is the output unit's pre-activation. Dropout is not applied:
 * DL4J's dropout is inverted (kept activations are scaled by {@code 1 / (1 - p)} while training), so
 * inference uses the weights as they are, as DL4J's {@code output} does.
 *
 * <p>For a ReLU stack without dropout the forward pass does the same float operations in the same
 * order as the native training kernel's (and so as {@code Predictor}, which scored the banks'
 * held-out rows for the evaluation histograms the calibration was fitted on): the logits are bit for
 * bit the same. The other stacks were trained and evaluated by DL4J, whose float arithmetic (its
 * matrix products' summation order, its tanh) differs in the last bits: the logits agree with DL4J's
 * within float rounding (tested in {@code DenseNetworksAgainstDl4jTest}). The weights are laid out
 * once at construction; each call allocates its own scratch, so one instance serves any number of
 * threads.
 */
public final class InferenceNetwork implements ExplainableNetwork {
  private final int[] sizes;
  private final int layers;
  private final HiddenActivation activation;
  /** Per layer l (1-based): weights row-major {@code nIn x nOut}, i.e. the weights out of input i are contiguous. */
  private final float[][] weights;
  private final float[][] biases;

  /**
   * @throws IllegalArgumentException when {@code parameters} is not exactly the network's parameter count
   */
  public InferenceNetwork(ModelSpec spec, int inputs, float[] parameters) {
    this.sizes = spec.layerSizes(inputs);
    this.layers = sizes.length - 1;
    this.activation = spec.activation();
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

  @Override
  public int inputs() {
    return sizes[0];
  }

  /**
   * Whether the logit is piecewise linear in the input (ReLU hidden layers, or none), so that {@link
   * #pathIntegral} walks the path's linear pieces exactly; otherwise it is smooth (tanh, sigmoid) and
   * integrated by {@link PathQuadrature}.
   */
  public boolean isPiecewiseLinear() {
    return layers == 1 || activation == HiddenActivation.RELU;
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

  @Override
  public void logits(float[] x, int rows, float[] out) {
    float[][] activations = forward(x, rows);
    System.arraycopy(activations[layers], 0, out, 0, rows);
  }

  @Override
  public float logit(float[] row) {
    return forward(row, 1)[layers][0];
  }

  /**
   * The integral of the logit's input gradient along the straight path from {@code from} to {@code
   * to}, {@code integral_0^1 grad f(from + a (to - from)) da}: walked exactly for a piecewise-linear
   * network (below), by checked Gauss-Legendre quadrature for a smooth one ({@link PathQuadrature}).
   *
   * @throws UnfaithfulExplanationException when the path crosses more than {@value #MAX_PIECES} linear pieces,
   *     or the quadrature does not reach its tolerance within {@link PathQuadrature#MAX_EVALUATIONS}
   *     gradients
   */
  @Override
  public PathIntegral pathIntegral(float[] from, float[] to) {
    return isPiecewiseLinear() ? piecewiseLinearPathIntegral(from, to) : PathQuadrature.integrate(this, from, to);
  }

  /**
   * {@link #pathIntegral} for a piecewise-linear network, computed exactly: a ReLU network is
   * affine between the points where some hidden unit's pre-activation changes sign, so the path is
   * walked from one such point to the next (each found in closed form, since every pre-activation
   * is affine in {@code a} while the units' on/off pattern holds) and each piece's constant gradient
   * is weighted by its length. In double precision; the pieces are at most {@value #MAX_PIECES}.
   *
   * @throws UnfaithfulExplanationException when the path crosses more than {@value #MAX_PIECES} pieces
   */
  private PathIntegral piecewiseLinearPathIntegral(float[] from, float[] to) {
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
        throw new UnfaithfulExplanationException("the path crosses more than " + MAX_PIECES
            + " linear pieces of the network");
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
   * @param pieces the linear pieces of the network the path crossed; for a smooth network, the
   *     quadrature's panels
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
    double[] point = new double[sizes[0]];
    for (int i = 0; i < point.length; i++) {
      point[i] = row[i];
    }
    return logitInDouble(point);
  }

  /**
   * The input gradient of the logit at {@code point}, in double precision, into {@code gradient}
   * (back-propagation through the hidden layers' activation derivatives).
   */
  void gradientInDouble(double[] point, double[] gradient) {
    gradientFromFirstLayer(firstLayer(point, true), gradient);
  }

  /**
   * The first layer's pre-activations at {@code point}, {@code W1 point (+ b1)}; affine in the point,
   * so along a path they are {@code firstLayer(from, true) + a firstLayer(to - from, false)}.
   */
  double[] firstLayer(double[] point, boolean withBias) {
    int nOut = sizes[1];
    double[] z = withBias ? toDouble(biases[1]) : new double[nOut];
    float[] w = weights[1];
    for (int i = 0; i < sizes[0]; i++) {
      double v = point[i];
      if (v != 0) {
        int t = i * nOut;
        for (int j = 0; j < nOut; j++) {
          z[j] += v * w[t + j];
        }
      }
    }
    return z;
  }

  /**
   * {@link #gradientInDouble} at the point whose first-layer pre-activations are {@code z1}: the
   * forward pass from the first hidden layer keeps each layer's activations, from which the
   * derivatives follow (tanh' = 1 - a^2, sigmoid' = a (1 - a), ReLU' = [a > 0]) without evaluating the
   * activation twice.
   */
  void gradientFromFirstLayer(double[] z1, double[] gradient) {
    double[][] a = new double[layers][];
    double[] pre = z1;
    for (int l = 1; l < layers; l++) {
      double[] act = new double[sizes[l]];
      for (int j = 0; j < act.length; j++) {
        act[j] = activate(pre[j]);
      }
      a[l] = act;
      int nIn = sizes[l];
      int nOut = sizes[l + 1];
      if (l + 1 < layers) {
        pre = toDouble(biases[l + 1]);
        float[] w = weights[l + 1];
        for (int i = 0; i < nIn; i++) {
          double v = act[i];
          if (v != 0) {
            int t = i * nOut;
            for (int j = 0; j < nOut; j++) {
              pre[j] += v * w[t + j];
            }
          }
        }
      }
    }
    // delta: the logit's gradient with respect to layer l's pre-activations, from the output down
    double[] delta = {1};
    for (int l = layers; l >= 1; l--) {
      int nIn = sizes[l - 1];
      int nOut = sizes[l];
      float[] w = weights[l];
      double[] below = l == 1 ? gradient : new double[nIn];
      for (int i = 0; i < nIn; i++) {
        double s = 0;
        int t = i * nOut;
        for (int j = 0; j < nOut; j++) {
          s += w[t + j] * delta[j];
        }
        below[i] = l == 1 ? s : s * derivativeAt(a[l - 1][i]);
      }
      delta = below;
    }
  }

  private static double[] toDouble(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  /** The logit at {@code point}, in double precision (the function {@link #gradientInDouble} differentiates). */
  double logitInDouble(double[] point) {
    double[] a = point;
    for (int l = 1; l <= layers; l++) {
      int nIn = sizes[l - 1];
      int nOut = sizes[l];
      double[] next = new double[nOut];
      for (int j = 0; j < nOut; j++) {
        next[j] = biases[l][j];
      }
      for (int i = 0; i < nIn; i++) {
        int t = i * nOut;
        for (int j = 0; j < nOut; j++) {
          next[j] += a[i] * weights[l][t + j];
        }
      }
      if (l < layers) {
        for (int j = 0; j < nOut; j++) {
          next[j] = activate(next[j]);
        }
      }
      a = next;
    }
    return a[0];
  }

  /**
   * Which ReLU hidden units are on at {@code point}, hashed: the gradient is constant where this is
   * (0 for a network without ReLU hidden units, whose gradient is smooth).
   */
  long reluPattern(double[] point) {
    if (activation != HiddenActivation.RELU || layers == 1) {
      return 0;
    }
    long pattern = 1;
    double[] a = point;
    for (int l = 1; l < layers; l++) {
      int nIn = sizes[l - 1];
      int nOut = sizes[l];
      double[] next = toDouble(biases[l]);
      for (int i = 0; i < nIn; i++) {
        int t = i * nOut;
        for (int j = 0; j < nOut; j++) {
          next[j] += a[i] * weights[l][t + j];
        }
      }
      long bits = 0;
      for (int j = 0; j < nOut; j++) {
        if (next[j] > 0) {
          bits |= 1L << (j & 63);
        } else {
          next[j] = 0;
        }
        if ((j & 63) == 63 || j == nOut - 1) {
          pattern = SequenceGradient.mix(pattern, bits);
          bits = 0;
        }
      }
      a = next;
    }
    return pattern;
  }

  private double activate(double z) {
    return switch (activation) {
      case RELU -> z < 0 ? 0 : z;
      case TANH -> Math.tanh(z);
      case SIGMOID -> 1 / (1 + Math.exp(-z));
    };
  }

  /** The activation's derivative where its value is {@code a} (ReLU's is taken as 0 at 0). */
  private double derivativeAt(double a) {
    return switch (activation) {
      case RELU -> a > 0 ? 1 : 0;
      case TANH -> 1 - a * a;
      case SIGMOID -> a * (1 - a);
    };
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
          activateInFloat(out, o, nOut);
        }
      }
      a[l] = out;
    }
    return a;
  }

  /**
   * The hidden activation on {@code out[o .. o + n)}: ReLU as the native kernel does it; tanh and
   * sigmoid in double, rounded once to float.
   */
  private void activateInFloat(float[] out, int o, int n) {
    switch (activation) {
      case RELU -> {
        for (int j = o; j < o + n; j++) {
          if (out[j] < 0f) {
            out[j] = 0f;
          }
        }
      }
      case TANH -> {
        for (int j = o; j < o + n; j++) {
          out[j] = (float) Math.tanh(out[j]);
        }
      }
      case SIGMOID -> {
        for (int j = o; j < o + n; j++) {
          out[j] = (float) (1 / (1 + Math.exp(-out[j])));
        }
      }
      default -> throw new IllegalStateException("unknown activation " + activation);
    }
  }
}
