package io.consort.privacy.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.privacy.accounting.DistributedDiscreteGaussian;
import io.consort.privacy.accounting.RdpAccountant;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ledger's accounting versions: v2 (every new entry) accounts a distributed discrete Gaussian with
 * the shares of the survivors other than any one bank, because each bank knows its own; v1 entries
 * (all survivors' shares) keep verifying as they were written.
 */
class SpendCalculatorTest {
  private static final List<String> BANKS = List.of("bank-a", "bank-b", "bank-c");
  private static final MechanismRecord NOISE = MechanismRecord.distributedDiscreteGaussian(1.0, 40.0, 3, 120.0,
      DistributedDiscreteGaussian.l1Bound(120.0, 500), 500);

  private static double epsilon(int shares) {
    return RdpAccountant.defaults().epsilon(List.of(DistributedDiscreteGaussian.account(40.0, shares, 120.0,
        DistributedDiscreteGaussian.l1Bound(120.0, 500), 500).event()), 1e-5);
  }

  @Test
  void bankLevelSpend_isAccountedWithTheOtherSurvivorsShares_underV2_andWithAllOfThem_underV1() {
    double v2 = new SpendCalculator().preview(BANKS, List.of(NOISE), 1e-5).get("bank-a").bankEpsilonRound();
    double v1 = new SpendCalculator().preview(SpendCalculator.ACCOUNTING_V1, BANKS, List.of(NOISE), 1e-5)
        .get("bank-a").bankEpsilonRound();

    assertEquals(epsilon(2), v2, 1e-12);
    assertEquals(epsilon(3), v1, 1e-12);
    assertTrue(v2 > v1);
  }

  @Test
  void newEntries_useV2_andAnUnknownAccountingIsRefused() {
    LedgerEntry entry = new PrivacyLedger().nextEntry("job", 1, Instant.now(), BANKS, 1e-5, List.of(NOISE),
        "0".repeat(64));
    assertEquals(SpendCalculator.ACCOUNTING, entry.accounting());
    assertEquals("rdp-improved-default-orders-v2", entry.accounting());
    assertThrows(IllegalArgumentException.class,
        () -> new SpendCalculator().preview("rdp-classic-v0", BANKS, List.of(NOISE), 1e-5));
  }

  @Test
  void v2EntryRecordingTheAllSurvivorsSpend_isRefusedByTheLedger() {
    PrivacyLedger ledger = new PrivacyLedger();
    LedgerEntry honest = ledger.nextEntry("job", 1, Instant.now(), BANKS, 1e-5, List.of(NOISE), "0".repeat(64));
    LedgerEntry understated = new LedgerEntry(1, "job", 1, honest.timestamp(), BANKS, 1e-5, SpendCalculator.ACCOUNTING,
        List.of(NOISE), new SpendCalculator().preview(SpendCalculator.ACCOUNTING_V1, BANKS, List.of(NOISE), 1e-5),
        "0".repeat(64), LedgerEntry.GENESIS_HASH);
    SignedLedgerEntry signed = new SignedLedgerEntry(understated, understated.hash(),
        new LedgerSignature("coordinator", "SHA256withECDSA", "0".repeat(64), new byte[] {1}), List.of());

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ledger.append(signed));
    assertTrue(e.getMessage().contains("spends must be"), e.getMessage());
  }
}
