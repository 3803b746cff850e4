package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.privacy.PrivacyBudgetExceededException;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.ledger.LedgerSigning;
import io.consort.privacy.ledger.MechanismRecord;
import io.consort.privacy.ledger.PrivacyLedger;
import io.consort.privacy.ledger.SignedEntryJson;
import io.consort.privacy.ledger.SignedLedgerEntry;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.CountersignRequest;
import io.consort.protocol.v1.DpReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bank's own cap holds whatever the coordinator does with the bank's releases. */
class BankPrivacyTest {
  @TempDir
  Path dir;

  private ParticipantConfig config(double cap) throws Exception {
    DemoPki pki = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-1"));
    TlsMaterial t = pki.bank("bank-1");
    Path data = Files.writeString(dir.resolve("data.csv"), "x,y\n1,a\n");
    return new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(), data,
        dir.resolve("local"), cap, 1e-5, 1 << 20, null, false);
  }

  @Test
  void sentReleases_countAgainstTheCap_evenWhenNeverCountersigned_andAcrossRestarts() throws Exception {
    ParticipantConfig config = config(8.0);
    LocalTrainingPlan round = new LocalTrainingPlan(300, 32, 1, 1.0);
    DpReport report = DpReport.newBuilder().setNoiseMultiplier(1.0).setSamplingRate(round.samplingRate())
        .setSteps(round.steps()).setClipNorm(1.0).setRows(300).build();
    BankPrivacy privacy = new BankPrivacy(config);
    int rounds = 0;
    while (true) {
      try {
        privacy.checkRound(round);
      } catch (PrivacyBudgetExceededException e) {
        break;
      }
      // the update is sent; the coordinator never asks for a countersignature
      privacy.recordRun("job", ++rounds, report);
      assertTrue(rounds < 100, "the cap must stop the bank");
    }
    assertTrue(rounds >= 1, "at least one round fits under epsilon 8");
    // a restarted daemon reads the journal and still refuses
    BankPrivacy restarted = new BankPrivacy(config);
    assertThrows(PrivacyBudgetExceededException.class, () -> restarted.checkRound(round));
  }

  @Test
  void aBankWithFewerRowsThanTheBatch_samplesEveryRow_insteadOfFailingItsPlan() throws Exception {
    BankPrivacy privacy = new BankPrivacy(config(8.0));
    io.consort.spec.JobSpec spec = io.consort.spec.JobSpec.builder().id("small")
        .schema(new io.consort.model.data.DataSchema(List.of("x"), List.of(), "y", "a"))
        .privacy(io.consort.spec.PrivacyMode.RECORD).targetEpsilon(3.0).batchSize(32).build();
    LocalTrainingPlan plan = privacy.roundPlan(spec, 27);
    assertEquals(1.0, plan.samplingRate());
    assertEquals(1, plan.steps());
  }

  @Test
  void anEntryUnderstatingTheRunningTotal_isRefused_alsoRightAfterARestart_andChangesNothing() throws Exception {
    Consortium c = consortium();
    ParticipantConfig config = c.config();
    java.security.PrivateKey coordinatorKey = c.coordinatorKey();
    java.security.cert.X509Certificate coordinatorCert = c.coordinatorCert();
    DpReport report = c.report();
    List<MechanismRecord> ran = c.ran();
    PrivacyLedger honest = new PrivacyLedger();
    BankPrivacy privacy = new BankPrivacy(config);
    privacy.recordRun("job", 1, report);
    SignedLedgerEntry first = LedgerSigning.sign(honest.nextEntry("job", 1, Instant.now(), List.of("bank-1"), 1e-5,
        ran, "1".repeat(64)), coordinatorKey, coordinatorCert);
    privacy.countersign("job", request(first));
    honest.append(first);
    privacy.recordRun("job", 2, report);
    // the coordinator "forgets" round 1: its entry for round 2 records round 2's cost as the bank's whole total
    SignedLedgerEntry lie = LedgerSigning.sign(new PrivacyLedger().nextEntry("job", 2, Instant.now(),
        List.of("bank-1"), 1e-5, ran, "2".repeat(64)), coordinatorKey, coordinatorCert);

    ProtocolViolationException e = assertThrows(ProtocolViolationException.class,
        () -> privacy.countersign("job", request(lie)));
    assertTrue(e.getMessage().contains("its own accounting gives"), e.getMessage());
    BankPrivacy restarted = new BankPrivacy(config);
    assertThrows(ProtocolViolationException.class, () -> restarted.countersign("job", request(lie)));
    assertFalse(restarted.countersignedModel("job", "2".repeat(64)));

    // the refused entry left nothing behind: the honest one, with the true total, is countersigned
    SignedLedgerEntry second = LedgerSigning.sign(honest.nextEntry("job", 2, Instant.now(), List.of("bank-1"), 1e-5,
        ran, "2".repeat(64)), coordinatorKey, coordinatorCert);
    restarted.countersign("job", request(second));
    assertTrue(restarted.countersignedModel("job", "2".repeat(64)));
    assertTrue(new BankPrivacy(config).countersignedModel("job", "2".repeat(64)), "and a restart still knows it");
  }

  @Test
  void aCountersignatureMadeAhead_isReadyToLeaveOnlyWithItsEntryOnDisk_andAFailedAppendIsReported() throws Exception {
    Consortium c = consortium();
    ParticipantConfig config = c.config();
    java.security.PrivateKey coordinatorKey = c.coordinatorKey();
    java.security.cert.X509Certificate coordinatorCert = c.coordinatorCert();
    DpReport report = c.report();
    List<MechanismRecord> ran = c.ran();
    PrivacyLedger ledger = new PrivacyLedger();
    BankPrivacy privacy = new BankPrivacy(config);
    privacy.recordRunAhead("job", 1, report); // settled by the countersignature's check, never awaited here
    SignedLedgerEntry first = LedgerSigning.sign(ledger.nextEntry("job", 1, Instant.now(), List.of("bank-1"), 1e-5,
        ran, "1".repeat(64)), coordinatorKey, coordinatorCert);

    BankPrivacy.Countersigned countersigned = privacy.countersignAhead("job", request(first));
    countersigned.copy().await();

    assertEquals(first.entryHash(), countersigned.countersignature().getEntryHash());
    assertTrue(new BankPrivacy(config).countersignedModel("job", "1".repeat(64)), "a restart does not find the entry");
    ledger.append(first);
    privacy.recordRun("job", 2, report);
    SignedLedgerEntry second = LedgerSigning.sign(ledger.nextEntry("job", 2, Instant.now(), List.of("bank-1"), 1e-5,
        ran, "2".repeat(64)), coordinatorKey, coordinatorCert);
    Path copy = dir.resolve("local").resolve(io.consort.privacy.ledger.LocalLedgerStore.FILE_NAME);
    Path saved = Files.move(copy, dir.resolve("saved-copy"));
    Files.createDirectory(copy); // a directory where the copy should be: the append fails
    BankPrivacy.Countersigned failed = privacy.countersignAhead("job", request(second));
    java.io.IOException e = assertThrows(java.io.IOException.class, () -> failed.copy().await());
    assertTrue(e.getMessage().contains("ledger copy"), e.getMessage());
    Files.delete(copy);
    Files.move(saved, copy);
    assertFalse(privacy.countersignedModel("job", "2".repeat(64)), "an entry whose append failed counts as held");
  }

  /** Bank-1 under epsilon 50, the coordinator's signing key, and one DP-SGD run of bank-1 with its ledger record. */
  private record Consortium(ParticipantConfig config, java.security.PrivateKey coordinatorKey,
                            java.security.cert.X509Certificate coordinatorCert, DpReport report,
                            List<MechanismRecord> ran) {}

  private Consortium consortium() throws Exception {
    DemoPki pki = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-1"));
    TlsMaterial t = pki.bank("bank-1");
    ParticipantConfig config = new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(),
        Files.writeString(dir.resolve("data.csv"), "x,y\n1,a\n"), dir.resolve("local"), 50.0, 1e-5, 1 << 20, null,
        false);
    LocalTrainingPlan round = new LocalTrainingPlan(300, 32, 1, 1.0);
    DpReport report = DpReport.newBuilder().setNoiseMultiplier(1.0).setSamplingRate(round.samplingRate())
        .setSteps(round.steps()).setClipNorm(1.0).setRows(300).build();
    return new Consortium(config, io.consort.certs.PemFiles.readPrivateKey(pki.coordinator().keyFile()),
        io.consort.certs.PemFiles.readCertificates(pki.coordinator().chainFile()).get(0), report,
        List.of(MechanismRecord.dpSgd("bank-1", round, 1.0)));
  }

  private static CountersignRequest request(SignedLedgerEntry signed) {
    return CountersignRequest.newBuilder().setEntryJson(SignedEntryJson.toJson(signed))
        .setEntryHash(signed.entryHash()).build();
  }
}
