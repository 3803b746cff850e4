package io.consort.privacy.noise;

import io.consort.privacy.DpPreconditions;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Objects;

/**
 * Exact sampler for the discrete Gaussian N_Z(0, sigma^2), P[X = x] proportional to
 * exp(-x^2 / (2 sigma^2)) on the integers, following Canonne, Kamath and Steinke 2020, "The Discrete
 * Gaussian for Differential Privacy" (NeurIPS 2020, arXiv:2004.00010), Algorithms 1-3.
 *
 * <p>sigma^2 is held as an exact rational {@code num/den} and every accept/reject decision is a
 * Bernoulli trial with a rational probability, decided by comparing a uniform random integer with the
 * numerator: no floating point touches the sampling decisions, so the output distribution is exactly
 * the discrete Gaussian for that rational variance (given an ideal uniform bit source).
 */
public final class DiscreteGaussianSampler {

  private final BigInteger sigma2Num;
  private final BigInteger sigma2Den;
  /** t = floor(sigma) + 1, the discrete Laplace scale of Algorithm 3. */
  private final BigInteger t;
  private final ExactBernoulli bernoulli;

  /**
   * Sampler for variance exactly {@code sigma2Numerator / sigma2Denominator}.
   *
   * @param random the bit source; production code passes a {@code BulkSecureRandom} (the banks' noise shares)
   */
  public DiscreteGaussianSampler(BigInteger sigma2Numerator, BigInteger sigma2Denominator, SecureRandom random) {
    Objects.requireNonNull(sigma2Numerator, "sigma2Numerator");
    Objects.requireNonNull(sigma2Denominator, "sigma2Denominator");
    if (sigma2Numerator.signum() <= 0 || sigma2Denominator.signum() <= 0) {
      throw new IllegalArgumentException("sigma^2 must be > 0, got " + sigma2Numerator + "/" + sigma2Denominator);
    }
    BigInteger g = sigma2Numerator.gcd(sigma2Denominator);
    this.sigma2Num = sigma2Numerator.divide(g);
    this.sigma2Den = sigma2Denominator.divide(g);
    // floor(sqrt(n/d)) = isqrt(floor(n/d)) for non-negative rationals.
    this.t = sigma2Num.divide(sigma2Den).sqrt().add(BigInteger.ONE);
    this.bernoulli = new ExactBernoulli(Objects.requireNonNull(random, "random"));
  }

  /**
   * Sampler whose sigma is exactly the binary value of the double {@code sigma} (sigma^2 computed
   * exactly in {@link BigDecimal}), with a fresh {@link SecureRandom}.
   */
  public static DiscreteGaussianSampler ofSigma(double sigma) {
    return ofSigma(sigma, new SecureRandom());
  }

  /** As {@link #ofSigma(double)} over an injected source. */
  public static DiscreteGaussianSampler ofSigma(double sigma, SecureRandom random) {
    DpPreconditions.checkSigma(sigma);
    BigDecimal exact = new BigDecimal(sigma);
    BigDecimal squared = exact.multiply(exact);
    BigInteger num = squared.unscaledValue();
    BigInteger den = BigInteger.ONE;
    if (squared.scale() > 0) {
      den = BigInteger.TEN.pow(squared.scale());
    } else if (squared.scale() < 0) {
      num = num.multiply(BigInteger.TEN.pow(-squared.scale()));
    }
    return new DiscreteGaussianSampler(num, den, random);
  }

  /** sigma^2 as a double, for display and accounting (the sampler itself uses the exact rational). */
  public double variance() {
    return new BigDecimal(sigma2Num).divide(new BigDecimal(sigma2Den), java.math.MathContext.DECIMAL64).doubleValue();
  }

  /**
   * One draw from N_Z(0, sigma^2) (CKS20 Algorithm 3): propose Y from the discrete Laplace with scale t,
   * accept with probability exp(-(|Y| - sigma^2/t)^2 / (2 sigma^2)). With sigma^2 = n/d the exponent is
   * the rational (|Y| d t - n)^2 / (2 n d t^2).
   */
  public long sample() {
    while (true) {
      BigInteger y = discreteLaplace(t);
      BigInteger diff = y.abs().multiply(sigma2Den).multiply(t).subtract(sigma2Num);
      BigInteger gammaNum = diff.multiply(diff);
      BigInteger gammaDen = BigInteger.TWO.multiply(sigma2Num).multiply(sigma2Den).multiply(t).multiply(t);
      if (bernoulli.expNeg(gammaNum, gammaDen)) {
        return y.longValueExact();
      }
    }
  }

  /** Adds independent N_Z(0, sigma^2) noise to each coordinate (as used on quantised updates). */
  public void addNoise(long[] values) {
    for (int i = 0; i < values.length; i++) {
      values[i] = Math.addExact(values[i], sample());
    }
  }

  /**
   * Discrete Laplace with scale t: P[X = x] proportional to exp(-|x| / t) (CKS20 Algorithm 2). U uniform
   * in {0..t-1} accepted with probability exp(-U/t) plus t times a geometric count V of
   * Bernoulli(exp(-1)) successes gives |X| = U + tV; a fair sign, rejecting "negative zero" so that 0 is
   * not counted twice.
   */
  BigInteger discreteLaplace(BigInteger scale) {
    while (true) {
      BigInteger u = bernoulli.uniformBelow(scale);
      if (!bernoulli.expNeg(u, scale)) {
        continue;
      }
      BigInteger v = BigInteger.ZERO;
      while (bernoulli.expNeg(BigInteger.ONE, BigInteger.ONE)) {
        v = v.add(BigInteger.ONE);
      }
      BigInteger x = u.add(scale.multiply(v));
      boolean negative = bernoulli.trial(BigInteger.ONE, BigInteger.TWO);
      if (negative && x.signum() == 0) {
        continue;
      }
      return negative ? x.negate() : x;
    }
  }

  @Override
  public String toString() {
    return "DiscreteGaussianSampler[sigma^2=" + sigma2Num + "/" + sigma2Den + "]";
  }
}
