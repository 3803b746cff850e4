package io.consort.privacy.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DistributedDiscreteGaussianTest {

  @Test
  void plan_meetsTargetAtThreshold_andExceedsItWithAllBanks() {
    DistributedDiscreteGaussian.Plan plan = DistributedDiscreteGaussian.plan(120.0, 10, 7);
    assertEquals(120.0 / Math.sqrt(7), plan.perBankSigma(), 1e-12);
    DistributedDiscreteGaussian.SurvivorAccounting atThreshold =
        DistributedDiscreteGaussian.account(plan.perBankSigma(), 7, 100, DistributedDiscreteGaussian.l1Bound(100, 5000), 5000);
    assertEquals(120.0, atThreshold.totalSigma(), 1e-9);
    assertEquals(1.2, atThreshold.effectiveNoiseMultiplier(), 1e-12);
    assertTrue(plan.totalSigmaIfAllSurvive() > 120.0);
  }

  @Test
  void account_approachesContinuousGaussian_whenSharesAreWide() {
    // With per-bank sigma of tens of units tau is ~0 and Proposition 14 reduces to alpha/(2 z^2).
    DistributedDiscreteGaussian.SurvivorAccounting acc =
        DistributedDiscreteGaussian.account(40.0, 9, 120.0, DistributedDiscreteGaussian.l1Bound(120, 1000), 1000);
    assertTrue(acc.tau() < 1e-100);
    double z = acc.effectiveNoiseMultiplier();
    assertEquals(8.0 / (2 * z * z), acc.event().rdp(8.0), 1e-12);
  }

  @Test
  void account_paysMoreWhenFewerBanksSurvive() {
    RdpAccountant accountant = RdpAccountant.defaults();
    double sigma = DistributedDiscreteGaussian.plan(100.0, 10, 6).perBankSigma();
    double epsAll = accountant.epsilon(DistributedDiscreteGaussian.account(sigma, 10, 100, 1000, 2000).event(), 1e-5);
    double epsSix = accountant.epsilon(DistributedDiscreteGaussian.account(sigma, 6, 100, 1000, 2000).event(), 1e-5);
    assertTrue(epsSix > epsAll);
  }

  @Test
  void tau_isLargeForTinyShares_soTheCorrectionMatters() {
    assertTrue(DistributedDiscreteGaussian.tau(0.5, 10) > 0.1);
    assertThrows(IllegalArgumentException.class, () -> DistributedDiscreteGaussian.plan(1.0, 10, 7));
  }
}
