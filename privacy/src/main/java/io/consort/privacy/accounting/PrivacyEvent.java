package io.consort.privacy.accounting;

/**
 * One accounted release (or a run of identical steps) whose Rényi-DP curve is known. Composition is
 * addition of these curves order by order (Mironov 2017, "Rényi Differential Privacy", Proposition 1),
 * so a ledger of heterogeneous events (different noise, sampling rate, steps) composes exactly.
 */
public sealed interface PrivacyEvent permits SampledGaussianEvent, DistributedDiscreteGaussianEvent {

  /** The total RDP epsilon(alpha) of this event at Rényi order {@code order} (all its steps included). */
  double rdp(double order);
}
