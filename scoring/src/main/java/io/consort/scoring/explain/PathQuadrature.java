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
 * gradients in all, the row gets no attribution but an {@link UnfaithfulExplanationException}.
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
    Path path = new Path(from, to);
    double difference = network.logitInDouble(path.end) - network.logitInDouble(path.origin);
    // the first layer's pre-activations are affine along the path: start + a * rate
    double[] start = network.firstLayer(path.origin, true);
    double[] rate = network.firstLayer(path.direction, false);
    Walk walk = new Walk((alpha, gradient) -> {
      double[] z1 = new double[start.length];
      for (int j = 0; j < z1.length; j++) {
        z1[j] = start[j] + alpha * rate[j];
      }
      network.gradientFromFirstLayer(z1, gradient);
    }, path.direction, maxEvaluations);
    return checked(walk, path.direction, difference, attempt -> new double[] {0, 1});
  }

  /**
   * {@link #integrate} for a sequence model, whose gradient is smooth only between the points where
   * one of its discrete choices ({@link SequenceGradient#pattern}: a ReLU unit, a max-pooled step)
   * changes: those points are found first (the pattern on a grid of {@value #CELLS} cells, each cell
   * whose ends differ bisected to {@value #MIN_PIECE} of the path), and each piece between them is
   * integrated as above. A pattern that changes and changes back inside one cell is missed by the grid,
   * and so can a steep stretch narrower than a panel's nodes (a tanh recurrence of large weights); the
   * completeness check then fails, and each retry refines the grid {@value #GRID_REFINEMENT} times and
   * starts the quadrature from every cell of it.
   */
  static InferenceNetwork.PathIntegral integrate(SequenceGradient network, float[] from, float[] to,
                                                 int maxEvaluations) {
    Path path = new Path(from, to);
    double difference = network.logit(path.end) - network.logit(path.origin);
    double[] point = new double[path.origin.length];
    Walk walk = new Walk((alpha, gradient) -> {
      double[] x = new double[point.length];
      path.at(alpha, x);
      network.gradient(x, gradient);
    }, path.direction, maxEvaluations);
    // a retry starts from a uniform grid of panels too: a narrow steep stretch that neither a panel nor its
    // halves sample is what makes completeness fail, and tightening alone would not sample it either
    return checked(walk, path.direction, difference, attempt -> {
      int cells = CELLS;
      for (int k = 0; k < attempt; k++) {
        cells *= GRID_REFINEMENT;
      }
      if (!network.isPiecewise()) {
        return attempt == 0 ? new double[] {0, 1} : Walk.grid(cells);
      }
      return walk.cuts(cells, attempt > 0, alpha -> {
        double[] x = new double[point.length];
        path.at(alpha, x);
        return network.pattern(x);
      });
    });
  }

  /** Cells of the first grid on which a sequence model's pattern is read. */
  static final int CELLS = 16;
  /** Factor by which the grid is refined on each retry. */
  static final int GRID_REFINEMENT = 4;
  /** Width, as a share of the path, to which a change of pattern is located. */
  static final double MIN_PIECE = 1e-12;

  /**
   * The integral on the pieces {@code cuts(attempt)}, checked by completeness against {@code difference},
   * the tolerance tightened on failure.
   */
  private static InferenceNetwork.PathIntegral checked(Walk walk, double[] direction, double difference,
                                                       java.util.function.IntFunction<double[]> cuts) {
    int inputs = direction.length;
    double tolerance = CONTRIBUTION_TOLERANCE;
    double gap = Double.NaN;
    for (int attempt = 0; attempt <= TIGHTENINGS; attempt++) {
      double[] integral = walk.adaptive(cuts.apply(attempt), tolerance);
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
    throw new UnfaithfulExplanationException("integrated gradients did not converge: the contributions miss the logit "
        + "difference by " + gap + " logits (tolerance " + COMPLETENESS_TOLERANCE + ") after " + walk.evaluations
        + " gradients at contribution tolerance " + tolerance * TIGHTENING);
  }

  /** The straight path from one row to another, in double. */
  private static final class Path {
    final double[] origin;
    final double[] end;
    final double[] direction;

    Path(float[] from, float[] to) {
      int inputs = from.length;
      origin = new double[inputs];
      end = new double[inputs];
      direction = new double[inputs];
      for (int i = 0; i < inputs; i++) {
        origin[i] = from[i];
        end[i] = to[i];
        direction[i] = (double) to[i] - from[i];
      }
    }

    void at(double alpha, double[] x) {
      for (int i = 0; i < x.length; i++) {
        x[i] = origin[i] + alpha * direction[i];
      }
    }
  }

  /** The input gradient at the path's point {@code alpha}. */
  @FunctionalInterface
  private interface GradientAt {
    void at(double alpha, double[] gradient);
  }

  /** One integral's state: the path, and the gradients evaluated so far. */
  private static final class Walk {
    private final GradientAt gradientAt;
    private final double[] direction;
    private final double[] gradient;
    private final int maxEvaluations;
    private int evaluations;
    private int panels;

    Walk(GradientAt gradientAt, double[] direction, int maxEvaluations) {
      this.gradientAt = gradientAt;
      this.maxEvaluations = maxEvaluations;
      this.direction = direction;
      this.gradient = new double[direction.length];
    }

    /**
     * The points of [0, 1] where {@code pattern} changes, with 0 and 1: read on {@code cells} equal
     * cells, each cell whose ends differ bisected until the change is within {@link #MIN_PIECE}.
     */
    double[] cuts(int cells, boolean withGrid, java.util.function.DoubleToLongFunction pattern) {
      java.util.List<Double> cuts = new java.util.ArrayList<>();
      cuts.add(0.0);
      long left = pattern.applyAsLong(0);
      for (int k = 1; k <= cells; k++) {
        double l = (double) (k - 1) / cells;
        double r = (double) k / cells;
        long right = pattern.applyAsLong(r);
        split(l, left, r, right, pattern, cuts);
        if (withGrid && k < cells && cuts.get(cuts.size() - 1) < r) {
          cuts.add(r);
        }
        left = right;
      }
      cuts.add(1.0);
      double[] out = new double[cuts.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = cuts.get(i);
      }
      return out;
    }

    /** The points 0, 1/cells, ..., 1. */
    static double[] grid(int cells) {
      double[] out = new double[cells + 1];
      for (int k = 0; k <= cells; k++) {
        out[k] = (double) k / cells;
      }
      return out;
    }

    private void split(double l, long left, double r, long right, java.util.function.DoubleToLongFunction pattern,
                       java.util.List<Double> cuts) {
      if (left == right) {
        return;
      }
      if (r - l <= MIN_PIECE) {
        cuts.add(r);
        return;
      }
      if (++evaluations > maxEvaluations) {
        throw new UnfaithfulExplanationException("integrated gradients need more than " + maxEvaluations
            + " passes on this path (its ReLU units or pooled steps change too often along it)");
      }
      double middle = (l + r) / 2;
      long m = pattern.applyAsLong(middle);
      split(l, left, middle, m, pattern, cuts);
      split(middle, m, r, right, pattern, cuts);
    }

    /**
     * The integral over [0, 1], the sum of the integrals between consecutive {@code cuts}, each panel
     * accepted at {@code tolerance} times its length.
     */
    double[] adaptive(double[] cuts, double tolerance) {
      int inputs = direction.length;
      double[] total = new double[inputs];
      panels = 0;
      Deque<Panel> open = new ArrayDeque<>();
      for (int k = cuts.length - 2; k >= 0; k--) {
        if (cuts[k + 1] > cuts[k]) {
          open.push(new Panel(cuts[k], cuts[k + 1], panel(cuts[k], cuts[k + 1])));
        }
      }
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
        throw new UnfaithfulExplanationException("integrated gradients need more than " + maxEvaluations
            + " gradients on this path (a hidden unit saturates too sharply along it)");
      }
      int inputs = direction.length;
      double[] estimate = new double[inputs];
      double half = (b - a) / 2;
      double middle = (a + b) / 2;
      for (int k = 0; k < NODES; k++) {
        gradientAt.at(middle + half * NODE[k], gradient);
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
