package io.consort.privacy.accounting;

/**
 * Numerically stable arithmetic on logarithms, used by the subsampled-Gaussian RDP computation where
 * the summed terms range over hundreds of orders of magnitude. Mirrors TensorFlow Privacy's
 * {@code _log_add}, {@code _log_sub} and {@code _log_erfc}.
 */
final class LogSpace {

  private static final double LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
  private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);

  private LogSpace() {}

  /** log(exp(a) + exp(b)) without overflow. */
  static double logAdd(double a, double b) {
    double lo = Math.min(a, b);
    double hi = Math.max(a, b);
    if (lo == Double.NEGATIVE_INFINITY) {
      return hi;
    }
    return Math.log1p(Math.exp(lo - hi)) + hi;
  }

  /** log(exp(a) - exp(b)) for a >= b. */
  static double logSub(double a, double b) {
    if (a < b) {
      throw new ArithmeticException("logSub: result would be negative (log a=" + a + " < log b=" + b + ")");
    }
    if (b == Double.NEGATIVE_INFINITY) {
      return a;
    }
    if (a == b) {
      return Double.NEGATIVE_INFINITY;
    }
    double diff = a - b;
    // exp(diff) overflows for diff > ~709; then exp(a) - exp(b) = exp(a) to double precision.
    if (diff > 700) {
      return a;
    }
    return Math.log(Math.expm1(diff)) + b;
  }

  /**
   * log(erfc(x)) accurate far into both tails. For |x| < 2 erfc = 1 - erf with erf from its Maclaurin
   * series (terms stay below 3 in magnitude there, so no cancellation worth mentioning); for x >= 2 the
   * Laplace continued fraction erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
   * evaluated in log form, so it never underflows; for x <= -2, erfc(x) = 2 - erfc(-x).
   */
  static double logErfc(double x) {
    if (Double.isNaN(x)) {
      return Double.NaN;
    }
    if (x >= 2.0) {
      if (Double.isInfinite(x)) {
        return Double.NEGATIVE_INFINITY;
      }
      return -x * x - LOG_SQRT_PI - Math.log(erfcContinuedFractionDenominator(x));
    }
    if (x > -2.0) {
      return Math.log1p(-erfSeries(x));
    }
    // erfc(-|x|) = 2 - erfc(|x|), with erfc(|x|) < 0.005 here.
    double tail = Math.exp(logErfc(-x));
    return Math.log(2.0) + Math.log1p(-tail / 2.0);
  }

  /** erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)), used for |x| < 2. */
  private static double erfSeries(double x) {
    double x2 = x * x;
    double term = x; // (-1)^n x^(2n+1) / n!
    double sum = x;
    for (int n = 1; n < 200; n++) {
      term *= -x2 / n;
      double contribution = term / (2 * n + 1);
      sum += contribution;
      if (Math.abs(contribution) < 1e-17 * Math.abs(sum)) {
        break;
      }
    }
    return TWO_OVER_SQRT_PI * sum;
  }

  /** Modified Lentz evaluation of x + (1/2)/(x + 1/(x + (3/2)/(x + ...))), i.e. a_k = k/2, b_k = x. */
  private static double erfcContinuedFractionDenominator(double x) {
    final double tiny = 1e-300;
    double f = x;
    double c = f;
    double d = 0.0;
    for (int k = 1; k < 10_000; k++) {
      double a = k / 2.0;
      d = x + a * d;
      if (d == 0.0) {
        d = tiny;
      }
      c = x + a / c;
      if (c == 0.0) {
        c = tiny;
      }
      d = 1.0 / d;
      double step = c * d;
      f *= step;
      if (Math.abs(step - 1.0) < 1e-16) {
        return f;
      }
    }
    return f;
  }
}
