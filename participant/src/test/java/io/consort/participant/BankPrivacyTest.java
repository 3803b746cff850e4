package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.privacy.PrivacyBudgetExceededException;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.protocol.v1.DpReport;
import java.nio.file.Files;
import java.nio.file.Path;
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
}
