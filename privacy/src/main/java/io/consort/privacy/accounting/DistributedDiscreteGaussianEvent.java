package io.consort.privacy.accounting;

import io.consort.privacy.DpPreconditions;

/**
 * {@code steps} releases of a sum of {@code n} independent discrete Gaussians N_Z(0, sigma^2) (one
 * share per surviving bank, added under secure aggregation) to an integer vector of dimension d with
 * L2 sensitivity Delta2 and L1 sensitivity Delta1, every bank taking part (no subsampling).
 *
 * <p>The RDP curve is Proposition 14 of Kairouz, Liu and Steinke 2021, "The Distributed Discrete
 * Gaussian Mechanism for Federated Learning with Secure Aggregation" (ICML 2021, arXiv:2102.06387),
 * the same bound Google's {@code distributed_dp} code uses: with
 * tau = 10 sum_{k=1}^{n-1} exp(-2 pi^2 sigma^2 k/(k+1)), l2 = Delta2 / (sqrt(n) sigma),
 * l1 = Delta1 / (sqrt(n) sigma):
 * <pre>
 *   D_alpha <= min( alpha/2 l2^2 + tau d,
 *                   alpha/2 (l2^2 + 2 l1 tau + tau^2 d),
 *                   alpha/2 (l2 + sqrt(d) tau)^2 )
 * </pre>
 * The tau terms pay for the sum of discrete Gaussians not being exactly a discrete Gaussian; they
 * vanish quickly once sigma is a few units (sigma = 2 already gives tau below 1e-30 for ten banks).
 *
 * @param l2Scale Delta2 / (sqrt(n) sigma)
 * @param l1Scale Delta1 / (sqrt(n) sigma)
 * @param tau the KLS21 tau for n banks and per-bank sigma
 * @param dimension d
 * @param steps number of releases
 */
public record DistributedDiscreteGaussianEvent(double l2Scale, double l1Scale, double tau, long dimension, long steps)
    implements PrivacyEvent {

  public DistributedDiscreteGaussianEvent {
    DpPreconditions.checkFinitePositive("l2 scale", l2Scale);
    DpPreconditions.checkFinitePositive("l1 scale", l1Scale);
    DpPreconditions.checkFiniteNonNegative("tau", tau);
    DpPreconditions.checkPositiveCount("dimension", dimension);
    DpPreconditions.checkSteps(steps);
  }

  @Override
  public double rdp(double order) {
    DpPreconditions.checkOrder(order);
    double half = order / 2.0;
    double term1 = half * l2Scale * l2Scale + tau * dimension;
    double term2 = half * (l2Scale * l2Scale + 2.0 * l1Scale * tau + tau * tau * dimension);
    double root = l2Scale + Math.sqrt((double) dimension) * tau;
    double term3 = half * root * root;
    return steps * Math.min(term1, Math.min(term2, term3));
  }
}
