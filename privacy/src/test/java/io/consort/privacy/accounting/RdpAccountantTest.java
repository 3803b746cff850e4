package io.consort.privacy.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The accountant against published figures. TensorFlow Privacy's MNIST tutorial table uses the classic
 * conversion eps = rdp + log(1/delta)/(alpha-1); the brief's cross-silo figures use the improved one.
 */
class RdpAccountantTest {

  private static final double MNIST_Q = 256.0 / 60000.0;
  private static final double DELTA = 1e-5;
  private static final RdpAccountant CLASSIC_INTEGER =
      new RdpAccountant(RdpOrders.integersOnly(), EpsilonConversion.CLASSIC);
  private static final RdpAccountant IMPROVED = RdpAccountant.defaults();

  private static long mnistSteps(int epochs) {
    return Math.round(epochs * 60000.0 / 256.0);
  }

  private static void assertWithinRelative(double expected, double actual, double relative) {
    assertTrue(Math.abs(actual - expected) <= relative * expected,
        () -> "expected " + expected + " within " + (relative * 100) + "%, got " + actual);
  }

  @Test
  void epsilon_matchesTensorFlowPrivacyTable_forMnistSetting() {
    double eps1 = CLASSIC_INTEGER.epsilon(new SampledGaussianEvent(1.12, MNIST_Q, mnistSteps(60)), DELTA);
    double eps2 = CLASSIC_INTEGER.epsilon(new SampledGaussianEvent(1.2, MNIST_Q, mnistSteps(10)), DELTA);
    double eps3 = CLASSIC_INTEGER.epsilon(new SampledGaussianEvent(0.6, MNIST_Q, mnistSteps(30)), DELTA);
    System.out.printf("MNIST classic integer orders: %.4f %.4f %.4f%n", eps1, eps2, eps3);
    assertWithinRelative(2.92, eps1, 0.01);
    assertWithinRelative(1.20, eps2, 0.01);
    assertWithinRelative(9.74, eps3, 0.01);
  }

  @Test
  void improvedConversion_givesAbout2point52_forFirstMnistRow() {
    double eps = IMPROVED.epsilon(new SampledGaussianEvent(1.12, MNIST_Q, mnistSteps(60)), DELTA);
    System.out.printf("MNIST improved default orders: %.4f%n", eps);
    assertWithinRelative(2.52, eps, 0.02);
  }

  @Test
  void improvedConversion_neverExceedsClassic_atSameOrders() {
    RdpAccountant classic = new RdpAccountant(RdpOrders.defaults(), EpsilonConversion.CLASSIC);
    for (double z : new double[] {0.6, 1.0, 1.12, 3.0}) {
      SampledGaussianEvent event = new SampledGaussianEvent(z, MNIST_Q, 5000);
      assertTrue(IMPROVED.epsilon(event, DELTA) <= classic.epsilon(event, DELTA));
    }
  }

  @Test
  void epsilon_matchesBriefCrossSiloFigures_whenEveryBankEveryRound() {
    double z1r10 = IMPROVED.epsilon(new SampledGaussianEvent(1.0, 1.0, 10), DELTA);
    double z1r100 = IMPROVED.epsilon(new SampledGaussianEvent(1.0, 1.0, 100), DELTA);
    double z3r10 = IMPROVED.epsilon(new SampledGaussianEvent(3.0, 1.0, 10), DELTA);
    double z3r100 = IMPROVED.epsilon(new SampledGaussianEvent(3.0, 1.0, 100), DELTA);
    System.out.printf("cross-silo improved: z=1: %.3f %.3f; z=3: %.3f %.3f%n", z1r10, z1r100, z3r10, z3r100);
    assertWithinRelative(19, z1r10, 0.05);
    assertWithinRelative(96, z1r100, 0.05);
    assertWithinRelative(5.0, z3r10, 0.05);
    assertWithinRelative(20, z3r100, 0.05);
  }

  @Test
  void epsilon_matchesBriefRecordLevelFigure_for24000RowsBatch256() {
    double q = 256.0 / 24000.0;
    long steps = (long) Math.ceil(10 * 24000.0 / 256.0);
    double eps = IMPROVED.epsilon(new SampledGaussianEvent(1.0, q, steps), DELTA);
    System.out.printf("record level 24000/256 z=1 10 epochs: %.4f%n", eps);
    assertWithinRelative(2.2, eps, 0.05);
  }

  @Test
  void fractionalOrder_liesBetweenNeighbouringIntegerOrders() {
    // RDP is non-decreasing in alpha (Mironov 2017, Proposition 9), so the fractional series must land
    // between its integer neighbours; a sign or cutoff error in the series would break this.
    for (double z : new double[] {0.6, 1.1, 4.0}) {
      double at2 = SampledGaussianRdp.perStep(0.01, z, 2.0);
      double at25 = SampledGaussianRdp.perStep(0.01, z, 2.5);
      double at3 = SampledGaussianRdp.perStep(0.01, z, 3.0);
      assertTrue(at2 <= at25 && at25 <= at3, () -> at2 + " " + at25 + " " + at3);
    }
  }

  @Test
  void fractionalSeries_agreesWithIntegerSeries_atIntegerOrders() {
    for (double z : new double[] {0.7, 1.0, 2.0}) {
      for (int alpha : new int[] {2, 5, 17}) {
        double integer = SampledGaussianRdp.logAInteger(0.02, z, alpha);
        double fractional = SampledGaussianRdp.logAFractional(0.02, z, alpha);
        assertEquals(integer, fractional, 1e-9 * Math.max(1, Math.abs(integer)), "z=" + z + " alpha=" + alpha);
      }
    }
  }

  @Test
  void composition_isAdditive_overHeterogeneousEvents() {
    SampledGaussianEvent a = new SampledGaussianEvent(1.1, 0.01, 300);
    SampledGaussianEvent b = new SampledGaussianEvent(0.8, 0.02, 100);
    double[] both = IMPROVED.rdp(List.of(a, b));
    double[] onlyA = IMPROVED.rdp(List.of(a));
    double[] onlyB = IMPROVED.rdp(List.of(b));
    for (int i = 0; i < both.length; i++) {
      assertEquals(onlyA[i] + onlyB[i], both[i], 1e-12 * both[i]);
    }
    assertTrue(IMPROVED.epsilon(List.of(a, b), DELTA) > IMPROVED.epsilon(a, DELTA));
  }

  @Test
  void emptyHistory_costsNothing() {
    assertEquals(0.0, IMPROVED.epsilon(List.of(), DELTA));
  }

  @Test
  void gaussianMechanism_rdpIsAlphaOverTwoZSquared_whenSamplingRateIsOne() {
    assertEquals(3.0 / (2 * 1.5 * 1.5), new SampledGaussianEvent(1.5, 1.0, 1).rdp(3.0), 1e-15);
  }

  @Test
  void logErfc_matchesReferenceValues_acrossBothTails() {
    assertEquals(Math.log(0.4795001221869535), LogSpace.logErfc(0.5), 1e-13);
    assertEquals(Math.log(0.15729920705028513), LogSpace.logErfc(1.0), 1e-13);
    assertEquals(Math.log(0.004677734981047266), LogSpace.logErfc(2.0), 1e-12);
    assertEquals(Math.log(2.209049699858544e-05), LogSpace.logErfc(3.0), 1e-12);
    assertEquals(Math.log(1.5374597944280349e-12), LogSpace.logErfc(5.0), 1e-11);
    assertEquals(Math.log(1.8427007929497148), LogSpace.logErfc(-1.0), 1e-13);
    // erfc(30) ~ 2.56e-393 underflows a double; log erfc(30) = -900 - log(30 sqrt(pi)) - O(1/x^2).
    assertEquals(-900 - Math.log(30 * Math.sqrt(Math.PI)) - 1.0 / 1800, LogSpace.logErfc(30.0), 1e-6);
  }

  @Test
  void cachedCurve_equalsTheEventsOwnValues_andCallersCannotChangeIt() {
    RdpAccountant accountant = new RdpAccountant(RdpOrders.defaults(), EpsilonConversion.IMPROVED);
    SampledGaussianEvent event = new SampledGaussianEvent(1.1, 0.16, 7);
    double[] first = accountant.rdp(event);
    for (int i = 0; i < first.length; i++) {
      assertEquals(event.rdp(accountant.orders().get(i)), first[i], 0.0, "order " + accountant.orders().get(i));
    }
    java.util.Arrays.fill(first, 0.0);
    // an equal event (another instance) hits the cache, whose curve the caller's change did not touch
    double[] again = accountant.rdp(new SampledGaussianEvent(1.1, 0.16, 7));
    assertEquals(event.rdp(accountant.orders().get(0)), again[0], 0.0);
    assertEquals(accountant.epsilon(List.of(event, event), DELTA),
        accountant.fromRdp(sum(accountant.rdp(event), accountant.rdp(event)), DELTA).epsilon(), 0.0);
  }

  @Test
  void cachedCurves_keepEventsApart_thatDifferInAnyValue() {
    RdpAccountant accountant = new RdpAccountant(RdpOrders.defaults(), EpsilonConversion.IMPROVED);
    double base = accountant.epsilon(new SampledGaussianEvent(1.1, 0.16, 7), DELTA);
    assertTrue(accountant.epsilon(new SampledGaussianEvent(1.1, 0.16, 8), DELTA) > base);
    assertTrue(accountant.epsilon(new SampledGaussianEvent(1.0, 0.16, 7), DELTA) > base);
    assertTrue(accountant.epsilon(new SampledGaussianEvent(1.1, 0.17, 7), DELTA) > base);
    assertEquals(base, accountant.epsilon(new SampledGaussianEvent(1.1, 0.16, 7), DELTA), 0.0);
  }

  @Test
  void curvesOfMoreEventsThanTheCacheHolds_stayExact() {
    RdpAccountant accountant = new RdpAccountant(RdpOrders.defaults(), EpsilonConversion.IMPROVED);
    for (int steps = 1; steps <= RdpAccountant.CACHED_CURVES + 10; steps++) {
      SampledGaussianEvent event = new SampledGaussianEvent(2.0, 1.0, steps);
      // q = 1: the plain Gaussian mechanism, steps * alpha / (2 z^2) at every order
      double order = accountant.orders().get(3);
      assertEquals(steps * order / 8.0, accountant.rdp(event)[3], 1e-9 * steps);
    }
    assertEquals(3 * accountant.orders().get(3) / 8.0, accountant.rdp(new SampledGaussianEvent(2.0, 1.0, 3))[3], 1e-9);
  }

  private static double[] sum(double[] a, double[] b) {
    double[] s = a.clone();
    for (int i = 0; i < s.length; i++) {
      s[i] += b[i];
    }
    return s;
  }

  @Test
  void sampledGaussianCurve_isTheEventsOwnRdp_bitForBit_whenItsStepCurveIsShared() {
    RdpAccountant accountant = new RdpAccountant(RdpOrders.defaults(), EpsilonConversion.IMPROVED);
    // the second and third events share the first's per-step curve (same q and z, other steps)
    for (SampledGaussianEvent event : List.of(new SampledGaussianEvent(1.1, 0.01, 100),
        new SampledGaussianEvent(1.1, 0.01, 7), new SampledGaussianEvent(1.1, 0.01, 100_000),
        new SampledGaussianEvent(0.9, 1.0, 3))) {
      double[] curve = accountant.rdp(event);
      for (int i = 0; i < curve.length; i++) {
        assertEquals(event.rdp(RdpOrders.defaults().get(i)), curve[i], 0.0, event + " at order index " + i);
      }
    }
  }
}
