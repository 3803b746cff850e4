package io.consort.scoring.calibration;

import io.consort.model.eval.ScoreHistogram;

/**
 * Fits Platt scaling (Platt 1999, "Probabilistic outputs for support vector machines") on the
 * consortium's merged evaluation histogram: per score bin, how many held-out rows of each class the
 * banks counted. Every row of bin {@code b} (of B) stands at the bin's midpoint, model logit
 * {@code z_b = logit((b + 1/2) / B)}. The fit is a function of counts the banks already released for
 * the final model, so it releases nothing new about any bank's rows.
 *
 * <p>As Platt recommends against overfitting small sets, the targets are regularised: a positive row
 * counts as {@code (P + 1) / (P + 2)}, a negative one as {@code 1 / (N + 2)}. The two parameters are
 * found by Newton's method with backtracking line search, as in Lin, Lin and Weng 2007 ("A note on
 * Platt's probabilistic outputs for support vector machines", Algorithm 1), starting from slope 0
 * and the intercept of the prior.
 */
public final class PlattScaling {
  private static final int MAX_ITERATIONS = 100;
  private static final double MIN_STEP = 1e-10;
  /** Ridge on the Hessian's diagonal, as in Lin, Lin and Weng. */
  private static final double RIDGE = 1e-12;

  private PlattScaling() {}

  /**
   * The calibration fitted on {@code merged}; the identity (with the reason in its note) when the
   * held-out rows hold one class only or the fitted slope is not positive (scores that do not rank).
   */
  public static Calibration fit(ScoreHistogram merged) {
    long[] pos = merged.positives();
    long[] neg = merged.negatives();
    int bins = merged.bins();
    long positives = 0;
    long negatives = 0;
    for (int b = 0; b < bins; b++) {
      positives += pos[b];
      negatives += neg[b];
    }
    if (positives == 0 || negatives == 0) {
      return Calibration.identity("not fitted: the held-out rows hold " + (positives == 0 ? "no positive" : "no negative")
          + " row");
    }
    double hi = (positives + 1.0) / (positives + 2.0);
    double lo = 1.0 / (negatives + 2.0);
    // per non-empty bin: its logit, its row count and its mean (regularised) target
    int used = 0;
    double[] z = new double[bins];
    double[] n = new double[bins];
    double[] t = new double[bins];
    for (int b = 0; b < bins; b++) {
      long count = pos[b] + neg[b];
      if (count > 0) {
        double mid = (b + 0.5) / bins;
        z[used] = Math.log(mid) - Math.log1p(-mid);
        n[used] = count;
        t[used] = (pos[b] * hi + neg[b] * lo) / count;
        used++;
      }
    }
    double a = 0;
    double c = Math.log((positives + 1.0) / (negatives + 1.0));
    double f = objective(z, n, t, used, a, c);
    for (int iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
      double gA = 0;
      double gC = 0;
      double hAA = RIDGE;
      double hAC = 0;
      double hCC = RIDGE;
      for (int i = 0; i < used; i++) {
        double p = Calibration.sigmoid(a * z[i] + c);
        double w = n[i] * p * (1 - p);
        gA += n[i] * (p - t[i]) * z[i];
        gC += n[i] * (p - t[i]);
        hAA += w * z[i] * z[i];
        hAC += w * z[i];
        hCC += w;
      }
      if (Math.abs(gA) < 1e-9 * (positives + negatives) && Math.abs(gC) < 1e-9 * (positives + negatives)) {
        break;
      }
      double det = hAA * hCC - hAC * hAC;
      double dA = -(hCC * gA - hAC * gC) / det;
      double dC = -(-hAC * gA + hAA * gC) / det;
      double slope = gA * dA + gC * dC;
      double step = 1;
      while (step >= MIN_STEP) {
        double candidate = objective(z, n, t, used, a + step * dA, c + step * dC);
        if (candidate < f + 1e-4 * step * slope) {
          a += step * dA;
          c += step * dC;
          f = candidate;
          break;
        }
        step /= 2;
      }
      if (step < MIN_STEP) {
        break;
      }
    }
    if (!(a > 0) || !Double.isFinite(a) || !Double.isFinite(c)) {
      return Calibration.identity("not fitted: the fitted slope is " + a + ", so the scores do not rank the held-out "
          + "rows and a calibration would reverse or flatten them");
    }
    return new Calibration(Calibration.Method.PLATT, a, c, positives + negatives, bins, "");
  }

  /** The regularised cross-entropy of {@code sigmoid(a z + c)}, summed over the bins' rows. */
  private static double objective(double[] z, double[] n, double[] t, int used, double a, double c) {
    double sum = 0;
    for (int i = 0; i < used; i++) {
      double s = a * z[i] + c;
      sum += n[i] * (t[i] * softplus(-s) + (1 - t[i]) * softplus(s));
    }
    return sum;
  }

  /** {@code log(1 + e^x)} without overflow. */
  static double softplus(double x) {
    return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
  }
}
