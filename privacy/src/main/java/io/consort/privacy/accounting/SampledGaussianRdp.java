package io.consort.privacy.accounting;

import io.consort.privacy.DpPreconditions;

/**
 * RDP of one step of the Poisson-subsampled Gaussian mechanism, following Mironov, Talwar and Zhang
 * 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism" (arXiv:1908.10530), as
 * implemented in TensorFlow Privacy's {@code rdp_accountant}: RDP(alpha) = log(A_alpha) / (alpha - 1),
 * where A_alpha is the alpha-th moment of the likelihood ratio between the mixture
 * (1-q) N(0, sigma^2) + q N(1, sigma^2) and N(0, sigma^2).
 */
public final class SampledGaussianRdp {

  /**
   * The fractional-order series stops once both new terms fall below e^-30 relative to 1, as in
   * TensorFlow Privacy's {@code _compute_log_a_frac}; the tail they leave is far below double precision
   * of the sum it is added to.
   */
  private static final double FRACTIONAL_SERIES_LOG_CUTOFF = -30.0;
  private static final int FRACTIONAL_SERIES_MAX_TERMS = 10_000_000;
  private static final double SQRT2 = Math.sqrt(2.0);

  private SampledGaussianRdp() {}

  /** RDP epsilon at {@code order} for one step with sampling rate q and noise multiplier sigma. */
  public static double perStep(double q, double sigma, double order) {
    DpPreconditions.checkSamplingRate(q);
    DpPreconditions.checkNoiseMultiplier(sigma);
    DpPreconditions.checkOrder(order);
    if (q == 1.0) {
      // Gaussian mechanism with sensitivity 1 and standard deviation sigma: D_alpha = alpha / (2 sigma^2)
      // (Mironov 2017, Proposition 7).
      return order / (2.0 * sigma * sigma);
    }
    double logA = isInteger(order) ? logAInteger(q, sigma, (int) order) : logAFractional(q, sigma, order);
    return logA / (order - 1.0);
  }

  static boolean isInteger(double order) {
    return order == Math.rint(order) && order < Integer.MAX_VALUE;
  }

  /**
   * Integer alpha: A_alpha = sum_{i=0}^{alpha} C(alpha, i) q^i (1-q)^(alpha-i) exp((i^2 - i) / (2 sigma^2))
   * (MTZ19, Section 3.3, integer case), summed in log space.
   */
  static double logAInteger(double q, double sigma, int alpha) {
    double logQ = Math.log(q);
    double log1mQ = Math.log1p(-q);
    double twoSigma2 = 2.0 * sigma * sigma;
    double logA = Double.NEGATIVE_INFINITY;
    double logBinom = 0.0; // log C(alpha, 0)
    for (int i = 0; i <= alpha; i++) {
      if (i > 0) {
        logBinom += Math.log((double) (alpha - i + 1)) - Math.log(i);
      }
      double s = logBinom + i * logQ + (alpha - i) * log1mQ + ((double) i * i - i) / twoSigma2;
      logA = LogSpace.logAdd(logA, s);
    }
    return logA;
  }

  /**
   * Fractional alpha: A_alpha = A_0 + A_1 with the two erfc-weighted series split at
   * z0 = sigma^2 log(1/q - 1) + 1/2 (MTZ19, Section 3.3, fractional case; TensorFlow Privacy
   * {@code _compute_log_a_frac}). Generalised binomial coefficients C(alpha, i) change sign once
   * i > alpha, so each series is accumulated with log-add or log-sub according to the sign.
   */
  static double logAFractional(double q, double sigma, double alpha) {
    double logA0 = Double.NEGATIVE_INFINITY;
    double logA1 = Double.NEGATIVE_INFINITY;
    double sigma2 = sigma * sigma;
    double z0 = sigma2 * Math.log(1.0 / q - 1.0) + 0.5;
    double logQ = Math.log(q);
    double log1mQ = Math.log1p(-q);
    double logHalf = Math.log(0.5);
    double logAbsCoef = 0.0; // log |C(alpha, 0)|
    boolean coefPositive = true;
    for (int i = 0; i < FRACTIONAL_SERIES_MAX_TERMS; i++) {
      if (i > 0) {
        double factor = (alpha - i + 1) / i; // C(alpha, i) = C(alpha, i-1) (alpha - i + 1) / i
        logAbsCoef += Math.log(Math.abs(factor));
        if (factor < 0) {
          coefPositive = !coefPositive;
        }
      }
      double j = alpha - i;
      double logT0 = logAbsCoef + i * logQ + j * log1mQ;
      double logT1 = logAbsCoef + j * logQ + i * log1mQ;
      double logE0 = logHalf + LogSpace.logErfc((i - z0) / (SQRT2 * sigma));
      double logE1 = logHalf + LogSpace.logErfc((z0 - j) / (SQRT2 * sigma));
      double logS0 = logT0 + ((double) i * i - i) / (2.0 * sigma2) + logE0;
      double logS1 = logT1 + (j * j - j) / (2.0 * sigma2) + logE1;
      if (coefPositive) {
        logA0 = LogSpace.logAdd(logA0, logS0);
        logA1 = LogSpace.logAdd(logA1, logS1);
      } else {
        logA0 = LogSpace.logSub(logA0, logS0);
        logA1 = LogSpace.logSub(logA1, logS1);
      }
      if (Math.max(logS0, logS1) < FRACTIONAL_SERIES_LOG_CUTOFF) {
        return LogSpace.logAdd(logA0, logA1);
      }
    }
    throw new ArithmeticException("fractional RDP series did not converge for q=" + q + ", sigma=" + sigma
        + ", alpha=" + alpha);
  }
}
