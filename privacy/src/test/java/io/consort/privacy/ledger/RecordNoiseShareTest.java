package io.consort.privacy.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.accounting.SampledGaussianEvent;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Distributed record-level noise as the ledger accounts it: the survivors' shares less the colluders',
 * as a Poisson-subsampled Gaussian; dropouts and more colluders cost more; a record that does not describe
 * a whole number of shares is refused; the report states whom the guarantee holds against.
 */
class RecordNoiseShareTest {
  // five banks, threshold 3, one colluder: two shares carry z = 1.2 times Delta2
  private static final double DELTA2 = 1000;
  private static final RecordNoiseShare SHARE = new RecordNoiseShare(
      RecordNoiseShare.perBankSigma(1.2, DELTA2, 3, 1), 3, 1, 0.05, 1.0, DELTA2, 500);

  private static double epsilon(int survivors) {
    return RdpAccountant.defaults().epsilon(List.of(SHARE.event(survivors)), 1e-5);
  }

  @Test
  void theWorstCase_costsExactlyOneStepAtTheJobsZ_andMoreSurvivorsCostLess() {
    double atThreshold = RdpAccountant.defaults().epsilon(List.of(new SampledGaussianEvent(1.2, 0.05, 1)), 1e-5);
    assertEquals(atThreshold, epsilon(3), 1e-9);
    assertEquals(atThreshold, RdpAccountant.defaults().epsilon(List.of(SHARE.worstCaseEvent()), 1e-5), 1e-9);
    assertTrue(epsilon(5) < epsilon(4) && epsilon(4) < epsilon(3));
    assertEquals(1.2 * Math.sqrt(4.0 / 2), SHARE.mechanism("bank-1", 5).noiseMultiplier(), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> SHARE.event(2), "no sum of fewer than t is unmasked");
  }

  @Test
  void sharesAreSizedForTheColluders_soKColludersLeaveTheJobsNoise() {
    for (int k = 1; k <= 3; k++) {
      double sigma = RecordNoiseShare.perBankSigma(1.0, DELTA2, 4, k);
      RecordNoiseShare share = new RecordNoiseShare(sigma, 4, k, 0.1, 1.0, DELTA2, 10);
      assertEquals(1.0, share.effectiveNoiseMultiplier(4), 1e-12, "k " + k);
      assertEquals(4 - k, share.mechanism("b", 4).countedShares());
    }
    assertThrows(IllegalArgumentException.class, () -> RecordNoiseShare.perBankSigma(1.0, DELTA2, 3, 0));
    assertThrows(IllegalArgumentException.class, () -> RecordNoiseShare.perBankSigma(1.0, DELTA2, 3, 3));
  }

  @Test
  void aRecordWhoseMultiplierIsNotAWholeNumberOfShares_isRefused() {
    MechanismRecord honest = SHARE.mechanism("bank-1", 5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MechanismRecord(
        PrivacyUnit.RECORD, "bank-1", MechanismKind.DISTRIBUTED_SAMPLED_GAUSSIAN, honest.noiseMultiplier() * 1.1,
        honest.samplingRate(), 1, 1.0, honest.noiseStddev(), honest.perBankSigma(), 5, DELTA2, 0, 500));
    assertTrue(e.getMessage().contains("whole number"), e.getMessage());
    // counting more shares than survived is refused too
    assertThrows(IllegalArgumentException.class, () -> new MechanismRecord(PrivacyUnit.RECORD, "bank-1",
        MechanismKind.DISTRIBUTED_SAMPLED_GAUSSIAN, Math.sqrt(6) * honest.perBankSigma() / DELTA2, 0.05, 1, 1.0,
        honest.noiseStddev(), honest.perBankSigma(), 5, DELTA2, 0, 500));
  }

  @Test
  void anEntry_roundTripsThroughJson_isReaccountedAsRecorded_andTheReportStatesTheGuarantee() throws Exception {
    List<String> banks = List.of("bank-1", "bank-2", "bank-3", "bank-4", "bank-5");
    List<MechanismRecord> mechanisms = banks.stream().map(b -> SHARE.mechanism(b, 5)).toList();
    LedgerEntry entry = new PrivacyLedger().nextEntry("job", 1, Instant.ofEpochMilli(1_000), banks, 1e-5, mechanisms,
        "0".repeat(64));
    assertEquals(epsilon(5), entry.spends().get("bank-3").recordEpsilonRound(), 1e-9);
    // an unverified signature suffices here: the JSON form and the report do not check it (LedgerVerifier does)
    SignedLedgerEntry signed = new SignedLedgerEntry(entry, entry.hash(),
        new LedgerSignature("coordinator", "SHA256withECDSA", "00".repeat(32), new byte[] {1}), List.of());
    SignedLedgerEntry back = LedgerJson.read(LedgerJson.write(signed), "test");
    assertEquals(entry, back.entry());
    String report = LedgerReport.of(List.of(signed)).toText();
    assertTrue(report.contains("distributed DP-SGD noise: holds against the coordinator with up to 1 colluding bank"),
        report);
  }
}
