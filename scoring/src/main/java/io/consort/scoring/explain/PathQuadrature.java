package io.consort.scoring.explain;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Integrated gradients' path integral {@code integral_0^1 grad f(from + a (to - from)) da} for a
 * smooth network (tanh or sigmoid hidden layers), by adaptive composite Gauss-Legendre quadrature
 * whose error is estimated and then checked.
 *
 * <p>Along the straight path the logit is an analytic function of {@code a}, so a Gauss-Legendre
 * rule of {@value #NODES} nodes (exact for polynomials of degree {@code 2 * NODES - 1}) converges
 * quickly as panels shrink; what slows it is a hidden unit that saturates sharply on the path (large
 * weights), which only narrow panels around that point resolve. So each panel's estimate is compared
 * with the sum of its two halves' estimates: the panel is accepted (with the halves' finer value)
 * when every input's contribution {@code (to_i - from_i) * integral_i} changes by at most {@link
 * #CONTRIBUTION_TOLERANCE} times the panel's length, so that the estimated error of each contribution
 * is at most {@link #CONTRIBUTION_TOLERANCE} over the whole path; otherwise both halves are refined.
 *
 * <p>The estimate is then checked by completeness (Sundararajan, Taly, Yan 2017): the contributions
 * must add up to {@code f(to) - f(from)}, both in double precision, within {@link
 * #COMPLETENESS_TOLERANCE} logits. If they do not (the comparison of a panel with its halves can miss
 * a feature that neither resolves), the tolerance is divided by {@value #TIGHTENING} and the integral
 * computed again, at most {@value #TIGHTENINGS} times; past that, or past {@value #MAX_EVALUATIONS}
 * gradients in all, the row gets no attribution but an {@link IllegalStateException}.
 */
final class PathQuadrature {
  /** Gauss-Legendre nodes per panel. */
  static final int NODES = 8;
  /** Largest estimated error of one input's contribution, in logits, over the whole path. */
  static final double CONTRIBUTION_TOLERANCE = 1e-7;
  /** Largest gap, in logits, between the contributions' sum and the double-precision logit difference. */
  static final double COMPLETENESS_TOLERANCE = 1e-6;
  /** Factor by which the contribution tolerance shrinks when completeness fails. */
  static final int TIGHTENING = 64;
  /** Times the tolerance is tightened before the integral is given up. */
  static final int TIGHTENINGS = 3;
  /** Most input gradients one integral may evaluate. */
  static final int MAX_EVALUATIONS = 200_000;
  /** A panel shorter than this is accepted as it is: halving it further changes nothing in double. */
  private static final double MIN_PANEL = 1e-12;

  /** Nodes on [-1, 1] and their weights. */
  private static final double[] NODE = new double[NODES];
  private static final double[] WEIGHT = new double[NODES];

  static {
    // Newton's method on the Legendre polynomial P_n, from the Chebyshev-like first guesses
    // cos(pi (k + 3/4) / (n + 1/2)), which are close enough for it to converge to the k-th root
    for (int k = 0; k < NODES; k++) {
      double x = Math.cos(Math.PI * (k + 0.75) / (NODES + 0.5));
      for (int iteration = 0; iteration < 100; iteration++) {
        double[] p = legendre(x);
        double dx = p[0] / p[1];
        x -= dx;
        if (Math.abs(dx) <= 1e-16) {
          break;
        }
      }
      double derivative = legendre(x)[1];
      NODE[k] = x;
      WEIGHT[k] = 2 / ((1 - x * x) * derivative * derivative);
    }
  }

  private PathQuadrature() {}

  /** {@code {P_n(x), P_n'(x)}} for {@code n = NODES}, by the three-term recurrence. */
  private static double[] legendre(double x) {
    double previous = 1;
    double current = x;
    for (int j = 2; j <= NODES; j++) {
      double next = ((2 * j - 1) * x * current - (j - 1) * previous) / j;
      previous = current;
      current = next;
    }
    return new double[] {current, NODES * (x * current - previous) / (x * x - 1)};
  }

  /** {@code integral_{-1}^{1} g(t) dt} by the rule, for checking it. */
  static double integrateOnUnitInterval(java.util.function.DoubleUnaryOperator g) {
    double sum = 0;
    for (int k = 0; k < NODES; k++) {
      sum += WEIGHT[k] * g.applyAsDouble(NODE[k]);
    }
    return sum;
  }

  static InferenceNetwork.PathIntegral integrate(InferenceNetwork network, float[] from, float[] to) {
    return integrate(network, from, to, MAX_EVALUATIONS);
  }

  /** {@link #integrate} with at most {@code maxEvaluations} gradients. */
  static InferenceNetwork.PathIntegral integrate(InferenceNetwork network, float[] from, float[] to,
                                                 int maxEvaluations) {
    int inputs = network.inputs();
    double[] origin = new double[inputs];
    double[] direction = new double[inputs];
    double[] end = new double[inputs];
    for (int i = 0; i < inputs; i++) {
      origin[i] = from[i];
      end[i] = to[i];
      direction[i] = (double) to[i] - from[i];
    }
    double difference = network.logitInDouble(end) - network.logitInDouble(origin);
    Walk walk = new Walk(network, origin, direction, maxEvaluations);
    double tolerance = CONTRIBUTION_TOLERANCE;
    double gap = Double.NaN;
    for (int attempt = 0; attempt <= TIGHTENINGS; attempt++) {
      double[] integral = walk.adaptive(tolerance);
      double sum = 0;
      for (int i = 0; i < inputs; i++) {
        sum += direction[i] * integral[i];
      }
      gap = Math.abs(sum - difference);
      if (gap <= COMPLETENESS_TOLERANCE) {
        return new InferenceNetwork.PathIntegral(integral, walk.panels);
      }
      tolerance /= TIGHTENING;
    }
    throw new IllegalStateException("integrated gradients did not converge: the contributions miss the logit "
        + "difference by " + gap + " logits (tolerance " + COMPLETENESS_TOLERANCE + ") after " + walk.evaluations
        + " gradients at contribution tolerance " + tolerance * TIGHTENING);
  }

  /** One integral's state: the path, and the gradients evaluated so far. */
  private static final class Walk {
    private final InferenceNetwork network;
    private final double[] origin;
    private final double[] direction;
    /** The first layer's pre-activations at the path's start, and their change along it. */
    private final double[] start;
    private final double[] rate;
    private final double[] gradient;
    private final int maxEvaluations;
    private int evaluations;
    private int panels;

    Walk(InferenceNetwork network, double[] origin, double[] direction, int maxEvaluations) {
      this.network = network;
      this.maxEvaluations = maxEvaluations;
      this.origin = origin;
      this.direction = direction;
      this.start = network.firstLayer(origin, true);
      this.rate = network.firstLayer(direction, false);
      this.gradient = new double[origin.length];
    }

    /** The integral over [0, 1], each panel accepted at {@code tolerance} times its length. */
    double[] adaptive(double tolerance) {
      int inputs = origin.length;
      double[] total = new double[inputs];
      panels = 0;
      Deque<Panel> open = new ArrayDeque<>();
      open.push(new Panel(0, 1, panel(0, 1)));
      while (!open.isEmpty()) {
        Panel p = open.pop();
        double middle = (p.from + p.to) / 2;
        double[] left = panel(p.from, middle);
        double[] right = panel(middle, p.to);
        double error = 0;
        for (int i = 0; i < inputs; i++) {
          error = Math.max(error, Math.abs(direction[i] * (left[i] + right[i] - p.estimate[i])));
        }
        if (error <= tolerance * (p.to - p.from) || p.to - p.from < MIN_PANEL) {
          for (int i = 0; i < inputs; i++) {
            total[i] += left[i] + right[i];
          }
          panels += 2;
        } else {
          open.push(new Panel(middle, p.to, right));
          open.push(new Panel(p.from, middle, left));
        }
      }
      return total;
    }

    /** The rule's estimate of the gradient's integral over [a, b]. */
    private double[] panel(double a, double b) {
      if (evaluations + NODES > maxEvaluations) {
        throw new IllegalStateException("integrated gradients need more than " + maxEvaluations
            + " gradients on this path (a hidden unit saturates too sharply along it)");
      }
      int inputs = origin.length;
      double[] estimate = new double[inputs];
      double half = (b - a) / 2;
      double middle = (a + b) / 2;
      for (int k = 0; k < NODES; k++) {
        double alpha = middle + half * NODE[k];
        double[] z1 = new double[start.length];
        for (int j = 0; j < z1.length; j++) {
          z1[j] = start[j] + alpha * rate[j];
        }
        network.gradientFromFirstLayer(z1, gradient);
        double w = half * WEIGHT[k];
        for (int i = 0; i < inputs; i++) {
          estimate[i] += w * gradient[i];
        }
      }
      evaluations += NODES;
      return estimate;
    }
  }

  private record Panel(double from, double to, double[] estimate) {}
}
