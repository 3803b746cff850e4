package io.consort.privacy.noise;

import java.math.BigInteger;
import java.security.SecureRandom;

/**
 * Bernoulli trials with exact rational probabilities, the building blocks of Canonne, Kamath, Steinke
 * 2020 (arXiv:2004.00010): Bernoulli(n/d) by a uniform integer below d, and Bernoulli(exp(-gamma)) for
 * rational gamma by Algorithm 1 (no floating point anywhere).
 */
final class ExactBernoulli {

  private final SecureRandom random;

  ExactBernoulli(SecureRandom random) {
    this.random = random;
  }

  /** Uniform integer in [0, bound), bound >= 1, by rejection on bitLength(bound) random bits. */
  BigInteger uniformBelow(BigInteger bound) {
    if (bound.signum() <= 0) {
      throw new IllegalArgumentException("bound must be >= 1, got " + bound);
    }
    if (bound.bitLength() <= 62) {
      long b = bound.longValue();
      long mask = Long.highestOneBit(b) * 2 - 1; // fewer than half the draws are rejected
      while (true) {
        long r = random.nextLong() & mask;
        if (r < b) {
          return BigInteger.valueOf(r);
        }
      }
    }
    int bits = bound.bitLength();
    while (true) {
      BigInteger r = new BigInteger(bits, random);
      if (r.compareTo(bound) < 0) {
        return r;
      }
    }
  }

  /** true with probability num/den, for 0 <= num <= den. */
  boolean trial(BigInteger num, BigInteger den) {
    return uniformBelow(den).compareTo(num) < 0;
  }

  /**
   * true with probability exp(-num/den), num >= 0, den >= 1 (CKS20 Algorithm 1). For gamma in [0, 1]:
   * draw A_k ~ Bernoulli(gamma/k) for k = 1, 2, ... until the first failure at K; return K odd
   * (P[K odd] = exp(-gamma) by the alternating series). For gamma > 1: exp(-gamma) =
   * exp(-1)^floor(gamma) exp(-(gamma - floor(gamma))), one independent trial per factor, stopping at the
   * first failure.
   */
  boolean expNeg(BigInteger num, BigInteger den) {
    if (num.signum() < 0 || den.signum() <= 0) {
      throw new IllegalArgumentException("gamma must be >= 0, got " + num + "/" + den);
    }
    if (num.compareTo(den) <= 0) {
      return expNegAtMostOne(num, den);
    }
    BigInteger[] qr = num.divideAndRemainder(den);
    for (BigInteger k = BigInteger.ZERO; k.compareTo(qr[0]) < 0; k = k.add(BigInteger.ONE)) {
      if (!expNegAtMostOne(BigInteger.ONE, BigInteger.ONE)) {
        return false;
      }
    }
    return expNegAtMostOne(qr[1], den);
  }

  private boolean expNegAtMostOne(BigInteger num, BigInteger den) {
    BigInteger k = BigInteger.ONE;
    while (trial(num, den.multiply(k))) {
      k = k.add(BigInteger.ONE);
    }
    return k.testBit(0);
  }
}
