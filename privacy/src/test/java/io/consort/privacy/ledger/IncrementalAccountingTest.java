package io.consort.privacy.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.consort.privacy.TestRandomness;
import io.consort.privacy.accounting.DistributedDiscreteGaussian;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.accounting.RdpHistory;
import io.consort.privacy.accounting.SampledGaussianEvent;
import io.consort.privacy.budget.BudgetDecision;
import io.consort.privacy.budget.BudgetGuard;
import io.consort.privacy.budget.PrivacyBudget;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bank's in-memory accounting (updated entry by entry) gives exactly, bit for bit, what a full
 * replay of its history gives: over a few hundred seeded random entries and events.
 */
class IncrementalAccountingTest {

  private static final List<String> BANKS = List.of("bank-a", "bank-b", "bank-c", "bank-d");
  private static final double DELTA = 1e-5;

  @TempDir
  Path dir;

  @Test
  void storeSpendPreview_equalsFullReplay_bitForBit_afterEveryOneOfThreeHundredRandomEntries() throws Exception {
    SecureRandom random = TestRandomness.seeded(13);
    LocalLedgerStore store = new LocalLedgerStore(dir, "bank-b");
    SpendCalculator coordinator = new SpendCalculator();
    List<LedgerEntry> history = new ArrayList<>();
    LedgerSignature fakeSignature = new LedgerSignature("coordinator", "test", "00", new byte[] {1});
    for (int n = 1; n <= 300; n++) {
      List<String> banks = randomBanks(random);
      List<MechanismRecord> mechanisms = randomMechanisms(random, banks);
      List<MechanismRecord> next = randomMechanisms(random, List.of("bank-b", "bank-c"));
      BankSpend expected = SpendCalculator.replay(history).preview(List.of("bank-b"), next, DELTA).get("bank-b");
      assertEquals(expected, store.previewSpend(next, DELTA), "after " + history.size() + " entries");
      // old entries keep the accounting they were written under
      String accounting = random.nextInt(10) == 0 ? SpendCalculator.ACCOUNTING_V1 : SpendCalculator.ACCOUNTING;
      LedgerEntry entry = new LedgerEntry(n, "job-" + random.nextInt(3), n, Instant.parse("2026-12-03T10:00:00Z"),
          banks, DELTA, accounting, mechanisms, coordinator.apply(accounting, banks, mechanisms, DELTA),
          String.format("%064x", n), LedgerEntry.GENESIS_HASH);
      store.append(new SignedLedgerEntry(entry, entry.hash(), fakeSignature, List.of()));
      history.add(entry);
    }
    List<MechanismRecord> next = randomMechanisms(random, List.of("bank-b"));
    BankSpend expected = SpendCalculator.replay(history).preview(List.of("bank-b"), next, DELTA).get("bank-b");
    assertEquals(expected, new LocalLedgerStore(dir, "bank-b").previewSpend(next, DELTA), "after reopening");
  }

  @Test
  void historyCurveAndBudgetDecision_equalFullComposition_bitForBit_underAppendsAndRevisions() {
    SecureRandom random = TestRandomness.seeded(29);
    RdpAccountant accountant = RdpAccountant.defaults();
    RdpHistory history = new RdpHistory(accountant);
    BudgetGuard guard = new BudgetGuard(new PrivacyBudget(8.0, DELTA), accountant);
    for (int n = 0; n < 300; n++) {
      if (history.size() > 0 && random.nextInt(4) == 0) {
        // a round's survivors became known: one earlier event is revised
        int at = history.size() - 1 - random.nextInt(Math.min(history.size(), 5));
        history.set(at, randomEvent(random));
      } else {
        history.add(randomEvent(random));
      }
      List<PrivacyEvent> events = history.events();
      assertArrayEquals(accountant.rdp(events), history.rdp(), "after " + n + " changes");
      PrivacyEvent proposed = randomEvent(random);
      BudgetDecision full = guard.evaluate(events, proposed);
      BudgetDecision incremental = guard.evaluate(history.rdp(), proposed);
      assertEquals(full, incremental);
    }
  }

  private static List<String> randomBanks(SecureRandom random) {
    List<String> banks = new ArrayList<>();
    for (String bank : BANKS) {
      if (random.nextInt(4) != 0) {
        banks.add(bank);
      }
    }
    while (banks.size() < 2) {
      banks.add(BANKS.stream().filter(b -> !banks.contains(b)).findFirst().orElseThrow());
    }
    return banks;
  }

  private static List<MechanismRecord> randomMechanisms(SecureRandom random, List<String> banks) {
    List<MechanismRecord> mechanisms = new ArrayList<>();
    for (String bank : banks) {
      if (random.nextInt(5) != 0) {
        mechanisms.add(MechanismRecord.dpSgd(bank, randomPlan(random), 1.0));
      }
    }
    switch (random.nextInt(3)) {
      case 0 -> mechanisms.add(MechanismRecord.bankLevelGaussian(0.5 + 0.25 * random.nextInt(10), 1.0));
      case 1 -> mechanisms.add(MechanismRecord.distributedDiscreteGaussian(1.0, 50 + 400 * random.nextDouble(),
          banks.size(), 256, DistributedDiscreteGaussian.l1Bound(256, 3681), 3681));
      default -> { }
    }
    return mechanisms;
  }

  /**
   * Plans drawn from a pool of random ones, as a job's rounds repeat theirs: the full replays this test
   * compares against then stay within the accountant's curve cache (a fresh fractional-order curve costs
   * milliseconds).
   */
  private static final List<LocalTrainingPlan> PLANS = plans(TestRandomness.seeded(7), 40);

  private static List<LocalTrainingPlan> plans(SecureRandom random, int count) {
    List<LocalTrainingPlan> plans = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long rows = 100 + random.nextInt(100_000);
      int batch = 1 + random.nextInt((int) Math.min(rows, 512));
      plans.add(new LocalTrainingPlan(rows, batch, 1 + random.nextInt(3), 0.5 + 3 * random.nextDouble()));
    }
    return plans;
  }

  private static LocalTrainingPlan randomPlan(SecureRandom random) {
    return PLANS.get(random.nextInt(PLANS.size()));
  }

  private static PrivacyEvent randomEvent(SecureRandom random) {
    if (random.nextInt(3) == 0) {
      return DistributedDiscreteGaussian.account(50 + 400 * random.nextDouble(), 2 + random.nextInt(8), 256,
          DistributedDiscreteGaussian.l1Bound(256, 3681), 3681).event();
    }
    LocalTrainingPlan plan = randomPlan(random);
    return new SampledGaussianEvent(plan.noiseMultiplier(), plan.samplingRate(), plan.steps());
  }
}
