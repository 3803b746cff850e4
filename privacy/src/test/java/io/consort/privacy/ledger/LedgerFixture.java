package io.consort.privacy.ledger;

import io.consort.privacy.accounting.DistributedDiscreteGaussian;
import io.consort.privacy.accounting.LocalTrainingPlan;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds a small, fully signed ledger: three banks, record-level DP-SGD and bank-level DDG noise. */
final class LedgerFixture {

  final TestPki pki;
  final TestPki.Identity coordinator;
  final Map<String, TestPki.Identity> banks = new LinkedHashMap<>();
  final PrivacyLedger ledger = new PrivacyLedger();

  LedgerFixture() throws Exception {
    pki = new TestPki("Consort Test Root CA");
    coordinator = pki.issue("coordinator", "coordinator");
    for (String bank : List.of("bank-a", "bank-b", "bank-c")) {
      banks.put(bank, pki.issue(bank, "participant"));
    }
  }

  /** Appends {@code rounds} rounds; round r drops bank-c when r is even. */
  LedgerFixture withRounds(int rounds) throws Exception {
    Map<String, Long> rows = Map.of("bank-a", 24_000L, "bank-b", 9_000L, "bank-c", 60_000L);
    Instant t0 = Instant.parse("2025-06-01T10:00:00Z").isBefore(Instant.now()) ? Instant.now().minusSeconds(3600)
        : Instant.now();
    for (int r = 1; r <= rounds; r++) {
      List<String> participants = r % 2 == 0 ? List.of("bank-a", "bank-b") : List.of("bank-a", "bank-b", "bank-c");
      List<MechanismRecord> mechanisms = new ArrayList<>();
      for (String bank : participants) {
        mechanisms.add(MechanismRecord.dpSgd(bank, new LocalTrainingPlan(rows.get(bank), 256, 1, 1.1), 1.0));
      }
      double sigma = DistributedDiscreteGaussian.plan(300.0, 3, 2).perBankSigma();
      mechanisms.add(MechanismRecord.distributedDiscreteGaussian(1.0, sigma, participants.size(), 256,
          DistributedDiscreteGaussian.l1Bound(256, 3681), 3681));
      String checksum = String.format("%064x", r);
      LedgerEntry entry = ledger.nextEntry("credit-1", r, t0.plusSeconds(60L * r), participants, 1e-5, mechanisms,
          checksum);
      SignedLedgerEntry signed = LedgerSigning.sign(entry, coordinator.key(), coordinator.certificate());
      for (String bank : participants) {
        TestPki.Identity id = banks.get(bank);
        signed = signed.withCountersignature(LedgerSigning.countersign(entry, id.key(), id.certificate()));
      }
      ledger.append(signed);
    }
    return this;
  }

  Map<String, X509Certificate> signerCertificates() {
    Map<String, X509Certificate> certs = new LinkedHashMap<>();
    certs.put("coordinator", coordinator.certificate());
    banks.forEach((name, id) -> certs.put(name, id.certificate()));
    return certs;
  }
}
