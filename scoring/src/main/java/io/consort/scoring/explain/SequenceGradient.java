package io.consort.scoring.explain;

import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.SequenceSpec;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A sequence model's logit and its gradient with respect to the input (every channel at every time
 * step), in double precision, for integrated gradients: the native engine's forward passes
 * ({@code LstmNetwork}, {@code SimpleRnnNetwork}, {@code Conv1dNetwork}, {@code AttentionNetwork} in
 * consort-model) redone in double, on the same flat parameters in DL4J's layout, each followed by its
 * backward pass to the input. The dense head is an {@link InferenceNetwork} on the head's parameters.
 * Rows are channel-major, {@code x[c * window + t]}, as the engine reads them; no dropout (inference).
 *
 * <p>The gradient is piecewise smooth: smooth where tanh, sigmoid and softmax are, with jumps where a
 * ReLU unit (the 1-D CNN's filters, a ReLU head's hidden units) switches or a max-pooled filter's
 * maximum moves to another time step. {@link #pattern} identifies those discrete choices, so that a
 * path can be cut into pieces on which the gradient is smooth ({@link PathQuadrature}). Immutable:
 * every call allocates its own scratch, so one instance serves any number of threads.
 */
final class SequenceGradient {
  private final ModelType type;
  private final int window;
  private final int channels;
  private final int units;
  private final int features;
  private final float[] p;
  private final InferenceNetwork head;
  // recurrent: gates per unit, offsets of the recurrent weights and the biases
  private final int gates;
  private final int recurrentOffset;
  private final int biasOffset;
  // 1-D CNN
  private final int kernelSize;
  private final int padBefore;
  // attention
  private final int heads;
  private final int headSize;
  private final int outputOffset;

  SequenceGradient(ModelSpec spec, int features, float[] parameters) {
    SequenceSpec s = spec.sequence().orElseThrow(() -> new IllegalArgumentException("a "
        + spec.type().wireName() + " model is not a sequence model"));
    this.type = spec.type();
    this.window = s.window();
    this.channels = s.channels(features);
    this.units = s.units();
    this.features = features;
    this.p = parameters.clone();
    this.gates = type == ModelType.LSTM ? 4 * units : units;
    this.recurrentOffset = channels * gates;
    this.biasOffset = recurrentOffset + units * gates;
    this.kernelSize = s.kernelSize();
    this.padBefore = (kernelSize - 1) / 2;
    this.heads = s.heads();
    this.headSize = heads > 0 ? units / heads : 0;
    this.outputOffset = 3 * units * channels;
    int headOffset = switch (type) {
      case LSTM, SIMPLE_RNN -> biasOffset + gates;
      case CNN1D -> units + kernelSize * channels * units;
      case ATTENTION -> outputOffset + units * units;
      default -> throw new IllegalArgumentException("no sequence gradient for " + type.wireName());
    };
    if (headOffset > p.length) {
      throw new IllegalArgumentException("the " + type.wireName() + " layer needs " + headOffset
          + " parameters, got " + p.length);
    }
    List<Integer> hidden = spec.hiddenLayers();
    ModelSpec headSpec = hidden.isEmpty()
        ? new ModelSpec(ModelType.LOGISTIC_REGRESSION, List.of(), spec.batchSize(), spec.learningRate(), 0,
            spec.seed(), HiddenActivation.RELU, 0, spec.objective(), Optional.empty())
        : new ModelSpec(ModelType.MLP, hidden, spec.batchSize(), spec.learningRate(), 0, spec.seed(),
            spec.activation(), spec.dropout(), spec.objective(), Optional.empty());
    head = new InferenceNetwork(headSpec, units, Arrays.copyOfRange(p, headOffset, p.length));
  }

  int inputs() {
    return features;
  }

  /** Whether the gradient has jumps (ReLU units or max pooling): otherwise it is smooth everywhere. */
  boolean isPiecewise() {
    return type == ModelType.CNN1D || (head.isPiecewiseLinear() && !head.isLinear());
  }

  /** The logit at {@code x}, in double precision. */
  double logit(double[] x) {
    return head.logitInDouble(forward(x).output);
  }

  /** The discrete choices the gradient at {@code x} depends on (ReLU units on or off, pooled steps). */
  long pattern(double[] x) {
    State state = forward(x);
    return mix(state.pattern, head.reluPattern(state.output));
  }

  /** The logit's gradient with respect to {@code x} into {@code gradient}. */
  void gradient(double[] x, double[] gradient) {
    State state = forward(x);
    double[] outputError = new double[units];
    head.gradientInDouble(state.output, outputError);
    Arrays.fill(gradient, 0);
    switch (type) {
      case LSTM, SIMPLE_RNN -> recurrentBackward(state, outputError, gradient);
      case CNN1D -> convolutionBackward(state, outputError, gradient);
      case ATTENTION -> attentionBackward(state, outputError, gradient);
      default -> throw new IllegalStateException(type.wireName());
    }
  }

  static long mix(long hash, long value) {
    return (hash ^ value) * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
  }

  /** What a forward pass keeps for its backward pass. */
  private static final class State {
    /** The sequence layer's output: the head's input. */
    double[] output;
    long pattern;
    /** Recurrent: per step the activated gates and (LSTM) the cell and its tanh. */
    double[][] gateValues;
    double[][] cells;
    double[][] cellTanhs;
    /** CNN: pre-activations per step and filter; the pooled step per filter. */
    double[][] convolved;
    int[] argmax;
    /** Attention: per step [q, k, v]; per head the softmax weights [tq][tk]. */
    double[][] qkv;
    double[][][] weights;
  }

  private State forward(double[] x) {
    if (x.length != features) {
      throw new IllegalArgumentException("the row has " + x.length + " features, the model takes " + features);
    }
    return switch (type) {
      case LSTM, SIMPLE_RNN -> recurrentForward(x);
      case CNN1D -> convolutionForward(x);
      case ATTENTION -> attentionForward(x);
      default -> throw new IllegalStateException(type.wireName());
    };
  }

  // ---- LSTM and SimpleRnn: z_t = x_t W + h_{t-1} RW + b -------------------------------------------

  private State recurrentForward(double[] x) {
    State s = new State();
    boolean lstm = type == ModelType.LSTM;
    s.gateValues = new double[window][];
    s.cells = new double[window][];
    s.cellTanhs = new double[window][];
    double[] h = new double[units];
    double[] c = new double[units];
    for (int t = 0; t < window; t++) {
      double[] z = new double[gates];
      for (int g = 0; g < gates; g++) {
        double sum = p[biasOffset + g];
        int w = g * channels;
        for (int ch = 0; ch < channels; ch++) {
          sum += p[w + ch] * x[ch * window + t];
        }
        int rw = recurrentOffset + g * units;
        for (int j = 0; j < units; j++) {
          sum += p[rw + j] * h[j];
        }
        z[g] = sum;
      }
      double[] next = new double[units];
      if (lstm) {
        double[] cell = new double[units];
        double[] cellTanh = new double[units];
        for (int j = 0; j < units; j++) {
          double a = tanh(z[j]);
          double f = sigmoid(z[units + j]);
          double o = sigmoid(z[2 * units + j]);
          double i = sigmoid(z[3 * units + j]);
          z[j] = a;
          z[units + j] = f;
          z[2 * units + j] = o;
          z[3 * units + j] = i;
          cell[j] = i * a + f * c[j];
          cellTanh[j] = tanh(cell[j]);
          next[j] = o * cellTanh[j];
        }
        s.cells[t] = cell;
        s.cellTanhs[t] = cellTanh;
        c = cell;
      } else {
        for (int j = 0; j < units; j++) {
          z[j] = tanh(z[j]);
          next[j] = z[j];
        }
      }
      s.gateValues[t] = z;
      h = next;
    }
    s.output = h;
    return s;
  }

  private void recurrentBackward(State s, double[] outputError, double[] gradient) {
    boolean lstm = type == ModelType.LSTM;
    double[] dh = outputError.clone();
    double[] dc = new double[units];
    double[] dz = new double[gates];
    for (int t = window - 1; t >= 0; t--) {
      double[] v = s.gateValues[t];
      if (lstm) {
        double[] cellTanh = s.cellTanhs[t];
        for (int j = 0; j < units; j++) {
          double a = v[j];
          double f = v[units + j];
          double o = v[2 * units + j];
          double i = v[3 * units + j];
          double tc = cellTanh[j];
          double dcj = dc[j] + dh[j] * o * (1 - tc * tc);
          double previous = t == 0 ? 0 : s.cells[t - 1][j];
          dz[j] = dcj * i * (1 - a * a);
          dz[units + j] = dcj * previous * f * (1 - f);
          dz[2 * units + j] = dh[j] * tc * o * (1 - o);
          dz[3 * units + j] = dcj * a * i * (1 - i);
          dc[j] = dcj * f;
        }
      } else {
        for (int j = 0; j < units; j++) {
          dz[j] = dh[j] * (1 - v[j] * v[j]);
        }
      }
      for (int g = 0; g < gates; g++) {
        double e = dz[g];
        if (e == 0) {
          continue;
        }
        int w = g * channels;
        for (int ch = 0; ch < channels; ch++) {
          gradient[ch * window + t] += p[w + ch] * e;
        }
      }
      if (t > 0) {
        double[] below = new double[units];
        for (int g = 0; g < gates; g++) {
          double e = dz[g];
          int rw = recurrentOffset + g * units;
          for (int j = 0; j < units; j++) {
            below[j] += p[rw + j] * e;
          }
        }
        dh = below;
      }
    }
  }

  // ---- 1-D CNN: same padding, ReLU, global max pooling over time ------------------------------------

  private State convolutionForward(double[] x) {
    State s = new State();
    int filters = units;
    s.convolved = new double[window][filters];
    for (int t = 0; t < window; t++) {
      double[] out = s.convolved[t];
      for (int n = 0; n < filters; n++) {
        out[n] = p[n];
      }
      for (int j = 0; j < kernelSize; j++) {
        int source = t + j - padBefore;
        if (source < 0 || source >= window) {
          continue;
        }
        for (int ch = 0; ch < channels; ch++) {
          double v = x[ch * window + source];
          int w = filters + (j * channels + ch) * filters;
          for (int n = 0; n < filters; n++) {
            out[n] += p[w + n] * v;
          }
        }
      }
    }
    s.output = new double[filters];
    s.argmax = new int[filters];
    long pattern = 17;
    for (int n = 0; n < filters; n++) {
      double max = Math.max(0, s.convolved[0][n]);
      int at = 0;
      for (int t = 1; t < window; t++) {
        double v = Math.max(0, s.convolved[t][n]);
        if (v > max) {
          max = v;
          at = t;
        }
      }
      s.output[n] = max;
      s.argmax[n] = max > 0 ? at : -1;
      pattern = mix(pattern, s.argmax[n]);
    }
    s.pattern = pattern;
    return s;
  }

  private void convolutionBackward(State s, double[] outputError, double[] gradient) {
    int filters = units;
    for (int n = 0; n < filters; n++) {
      int t = s.argmax[n];
      double e = outputError[n];
      if (t < 0 || e == 0) {
        continue;
      }
      for (int j = 0; j < kernelSize; j++) {
        int source = t + j - padBefore;
        if (source < 0 || source >= window) {
          continue;
        }
        for (int ch = 0; ch < channels; ch++) {
          gradient[ch * window + source] += p[filters + (j * channels + ch) * filters + n] * e;
        }
      }
    }
  }

  // ---- self-attention: projections, scaled softmax per head, mean over time, Wo ----------------------

  private State attentionForward(double[] x) {
    State s = new State();
    int projected = 3 * units;
    double scale = 1.0 / Math.sqrt(headSize);
    s.qkv = new double[window][projected];
    for (int t = 0; t < window; t++) {
      for (int q = 0; q < projected; q++) {
        double sum = 0;
        for (int ch = 0; ch < channels; ch++) {
          sum += p[q * channels + ch] * x[ch * window + t];
        }
        s.qkv[t][q] = sum;
      }
    }
    double[] mean = new double[units];
    s.weights = new double[heads][window][window];
    for (int h = 0; h < heads; h++) {
      int base = h * headSize;
      double[] keyWeights = new double[window];
      for (int tq = 0; tq < window; tq++) {
        double[] a = s.weights[h][tq];
        double max = Double.NEGATIVE_INFINITY;
        for (int tk = 0; tk < window; tk++) {
          double dot = 0;
          for (int d = 0; d < headSize; d++) {
            dot += s.qkv[tq][base + d] * s.qkv[tk][units + base + d];
          }
          a[tk] = dot * scale;
          max = Math.max(max, a[tk]);
        }
        double sum = 0;
        for (int tk = 0; tk < window; tk++) {
          a[tk] = Math.exp(a[tk] - max);
          sum += a[tk];
        }
        for (int tk = 0; tk < window; tk++) {
          a[tk] /= sum;
          keyWeights[tk] += a[tk];
        }
      }
      for (int tk = 0; tk < window; tk++) {
        double wk = keyWeights[tk] / window;
        for (int d = 0; d < headSize; d++) {
          mean[base + d] += wk * s.qkv[tk][2 * units + base + d];
        }
      }
    }
    s.output = new double[units];
    for (int i = 0; i < units; i++) {
      int row = outputOffset + i * units;
      for (int o = 0; o < units; o++) {
        s.output[o] += mean[i] * p[row + o];
      }
    }
    return s;
  }

  private void attentionBackward(State s, double[] outputError, double[] gradient) {
    int projected = 3 * units;
    double scale = 1.0 / Math.sqrt(headSize);
    double[] meanError = new double[units];
    for (int i = 0; i < units; i++) {
      int row = outputOffset + i * units;
      double sum = 0;
      for (int o = 0; o < units; o++) {
        sum += p[row + o] * outputError[o];
      }
      meanError[i] = sum;
    }
    double[][] qkvError = new double[window][projected];
    for (int h = 0; h < heads; h++) {
      int base = h * headSize;
      double[][] a = s.weights[h];
      // every query step's output gets the error g = meanError / T; u_tk = g . v_tk
      double[] u = new double[window];
      for (int tk = 0; tk < window; tk++) {
        double sum = 0;
        for (int d = 0; d < headSize; d++) {
          sum += meanError[base + d] * s.qkv[tk][2 * units + base + d];
        }
        u[tk] = sum / window;
      }
      for (int tq = 0; tq < window; tq++) {
        double expected = 0;
        for (int tk = 0; tk < window; tk++) {
          expected += a[tq][tk] * u[tk];
        }
        for (int tk = 0; tk < window; tk++) {
          double weight = a[tq][tk];
          // the values: weight times g
          for (int d = 0; d < headSize; d++) {
            qkvError[tk][2 * units + base + d] += weight * meanError[base + d] / window;
          }
          double ds = weight * (u[tk] - expected) * scale;
          if (ds == 0) {
            continue;
          }
          for (int d = 0; d < headSize; d++) {
            qkvError[tq][base + d] += ds * s.qkv[tk][units + base + d];
            qkvError[tk][units + base + d] += ds * s.qkv[tq][base + d];
          }
        }
      }
    }
    for (int t = 0; t < window; t++) {
      for (int q = 0; q < projected; q++) {
        double e = qkvError[t][q];
        if (e == 0) {
          continue;
        }
        for (int ch = 0; ch < channels; ch++) {
          gradient[ch * window + t] += p[q * channels + ch] * e;
        }
      }
    }
  }

  private static double sigmoid(double z) {
    return 1 / (1 + Math.exp(-z));
  }

  /**
   * tanh from {@link Math#exp} (an intrinsic), within 2.3e-16 of {@link Math#tanh} on [-10, 10] and 5 times
   * faster warm: the recurrent layers' pass is mostly tanh and sigmoid.
   */
  static double tanh(double z) {
    double e = Math.exp(-2 * Math.abs(z));
    double t = (1 - e) / (1 + e);
    return z < 0 ? -t : t;
  }
}
