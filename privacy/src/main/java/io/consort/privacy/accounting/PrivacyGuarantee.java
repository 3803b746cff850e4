package io.consort.privacy.accounting;

/**
 * An (epsilon, delta)-DP guarantee and the Rényi order at which the conversion was tightest.
 *
 * @param epsilon the epsilon
 * @param delta the delta
 * @param order the optimal order
 */
public record PrivacyGuarantee(double epsilon, double delta, double order) {}
