package io.consort.privacy.accounting;

import io.consort.privacy.DpPreconditions;
import java.util.List;
import java.util.Objects;

/**
 * Rényi-DP accountant: sums the RDP curves of a sequence of {@link PrivacyEvent}s order by order
 * (composition, Mironov 2017 Proposition 1) and converts the total to (epsilon, delta) by minimising
 * the chosen {@link EpsilonConversion} over the orders. Thread-safe; a history is passed in as a list of
 * events ({@link RdpHistory} keeps a bank's composed as it grows, so the bank does not recompose it).
 *
 * <p>An event's curve is a pure function of the event, and the same events recur (every round of a
 * job has the same DP-SGD mechanism, and every replay of a ledger meets them again), while one
 * curve of a subsampled Gaussian costs over a hundred series evaluations at fractional orders. So
 * the curves of the most recently used events (records, compared by value) are kept:
 * {@code consort bench round} measured this accounting as the largest single cost of a round's
 * privacy machinery before.
 */
public final class RdpAccountant {

  private static final RdpAccountant DEFAULT = new RdpAccountant(RdpOrders.defaults(), EpsilonConversion.IMPROVED);

  /** How many events' curves are kept (least recently used first out). */
  static final int CACHED_CURVES = 512;

  private final RdpOrders orders;
  private final EpsilonConversion conversion;
  private final java.util.Map<PrivacyEvent, double[]> curves = new java.util.LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(java.util.Map.Entry<PrivacyEvent, double[]> eldest) {
      return size() > CACHED_CURVES;
    }
  };

  /** How many (sampling rate, noise multiplier) pairs' per-step curves are kept (least recently used first out). */
  static final int CACHED_STEPS = 256;

  private record StepKey(double samplingRate, double noiseMultiplier) {}

  /**
   * Per-step curves of the sampled Gaussian by (q, z): a job's rounds, its whole-job preview and its
   * budget checks use the same (q, z) with different step counts.
   */
  private final java.util.Map<StepKey, double[]> steps = new java.util.LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(java.util.Map.Entry<StepKey, double[]> eldest) {
      return size() > CACHED_STEPS;
    }
  };

  public RdpAccountant(RdpOrders orders, EpsilonConversion conversion) {
    this.orders = Objects.requireNonNull(orders, "orders");
    this.conversion = Objects.requireNonNull(conversion, "conversion");
  }

  /** Default orders and the improved conversion: what Consort uses for budgets and the ledger. */
  public static RdpAccountant defaults() {
    return DEFAULT;
  }

  public RdpOrders orders() {
    return orders;
  }

  public EpsilonConversion conversion() {
    return conversion;
  }

  /** The composed RDP curve of {@code events}, one value per order. */
  public double[] rdp(List<? extends PrivacyEvent> events) {
    Objects.requireNonNull(events, "events");
    double[] total = new double[orders.size()];
    for (PrivacyEvent event : events) {
      double[] curve = curve(event);
      for (int i = 0; i < total.length; i++) {
        total[i] += curve[i];
      }
    }
    return total;
  }

  /** The RDP curve of one event, one value per order (a fresh array the caller may change). */
  public double[] rdp(PrivacyEvent event) {
    return curve(event).clone();
  }

  /** The event's curve, shared: callers must not change it. */
  private double[] curve(PrivacyEvent event) {
    Objects.requireNonNull(event, "event");
    // only records are cached: their equality is their values, so a hit is the same mechanism
    boolean cacheable = event instanceof Record;
    if (cacheable) {
      synchronized (curves) {
        double[] cached = curves.get(event);
        if (cached != null) {
          return cached;
        }
      }
    }
    double[] curve = new double[orders.size()];
    if (event instanceof SampledGaussianEvent sampled) {
      // steps * perStep(q, z, order), the very product SampledGaussianEvent.rdp computes
      double[] step = perStep(sampled.samplingRate(), sampled.noiseMultiplier());
      for (int i = 0; i < curve.length; i++) {
        curve[i] = sampled.steps() * step[i];
      }
    } else {
      for (int i = 0; i < curve.length; i++) {
        curve[i] = event.rdp(orders.get(i));
      }
    }
    if (cacheable) {
      synchronized (curves) {
        curves.put(event, curve);
      }
    }
    return curve;
  }

  /** One step's curve of the sampled Gaussian at (q, z), shared: callers must not change it. */
  private double[] perStep(double samplingRate, double noiseMultiplier) {
    StepKey key = new StepKey(samplingRate, noiseMultiplier);
    synchronized (steps) {
      double[] cached = steps.get(key);
      if (cached != null) {
        return cached;
      }
    }
    double[] step = new double[orders.size()];
    for (int i = 0; i < step.length; i++) {
      step[i] = SampledGaussianRdp.perStep(samplingRate, noiseMultiplier, orders.get(i));
    }
    synchronized (steps) {
      steps.put(key, step);
    }
    return step;
  }

  /** (epsilon, delta) for the composition of {@code events}. An empty history costs epsilon 0. */
  public PrivacyGuarantee guarantee(List<? extends PrivacyEvent> events, double delta) {
    DpPreconditions.checkDelta(delta);
    return fromRdp(rdp(events), delta);
  }

  /** Shorthand for {@code guarantee(events, delta).epsilon()}. */
  public double epsilon(List<? extends PrivacyEvent> events, double delta) {
    return guarantee(events, delta).epsilon();
  }

  /** Shorthand for a single event. */
  public double epsilon(PrivacyEvent event, double delta) {
    return guarantee(List.of(event), delta).epsilon();
  }

  /** Minimise the conversion over the orders for an already composed RDP curve. */
  public PrivacyGuarantee fromRdp(double[] rdp, double delta) {
    DpPreconditions.checkDelta(delta);
    if (rdp.length != orders.size()) {
      throw new IllegalArgumentException("rdp must have one value per order (" + orders.size() + "), got "
          + rdp.length);
    }
    double best = Double.POSITIVE_INFINITY;
    double bestOrder = Double.NaN;
    for (int i = 0; i < rdp.length; i++) {
      double eps = conversion.epsilon(orders.get(i), rdp[i], delta);
      if (eps < best) { // NaN never wins
        best = eps;
        bestOrder = orders.get(i);
      }
    }
    return new PrivacyGuarantee(Math.max(0.0, best), delta, bestOrder);
  }
}
