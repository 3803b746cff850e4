package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.PemFiles;
import io.consort.privacy.ledger.LedgerVerifier;
import io.consort.privacy.ledger.VerificationResult;
import io.consort.scoring.PublishedModelFile;
import io.consort.spec.JobSpec;
import io.consort.spec.PrivacyMode;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator as a standing service: jobs submitted with {@code consort job submit} to one
 * running coordinator run one after another with the same bank daemons, each bank's privacy spend
 * adds up across the jobs (in the ledger, and in the bank's own budget, which makes a bank with a
 * small cap decline the second job), and the models are pulled with their provenance.
 */
@Tag("e2e")
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class JobsOnDemandTest {
  @TempDir
  Path dir;

  private static JobSpec privateJob(LocalConsortium consortium, String id) throws Exception {
    return consortium.basePlan(id, 2).secureAggregation(true).secureAggregationClipNorm(10)
        .privacy(PrivacyMode.RECORD).targetEpsilon(1.0).delta(1e-5).recordClipNorm(1.0).build();
  }

  private Path jobFile(JobSpec spec) throws Exception {
    Path file = dir.resolve(spec.id() + ".yaml");
    ConfigFiles.write(file, ConfigFiles.jobYaml(spec, 3, 60, 30));
    return file;
  }

  @Test
  void twoJobsSubmittedToOneRunningCoordinator_runWithTheSameBanks_andEachBanksEpsilonAddsUpAcrossBoth()
      throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JobSpec firstJob = privateJob(consortium, "first");
      JobSpec secondJob = privateJob(consortium, "second");
      consortium.startService();
      // one job costs a bank about epsilon 1.0; bank-3 allows itself 1.2, so it has room for one job only
      consortium.startBanks(bank -> bank.equals("bank-3") ? new LocalConsortium.BankSettings(1.2, null, false)
          : LocalConsortium.BankSettings.defaults());
      String api = consortium.apiUrl();
      String operator = LocalConsortium.identityDir(consortium.pki.operator());
      String auditor = LocalConsortium.identityDir(consortium.pki.auditor());

      CliRun first = CliRun.of("job", "submit", "--api", api, "--identity", operator,
          jobFile(firstJob).toString());
      assertEquals(0, first.status(), first.err());
      CliRun second = CliRun.of("job", "submit", "--api", api, "--identity", operator,
          jobFile(secondJob).toString());
      assertEquals(0, second.status(), second.err());
      assertEquals("queued", new JsonObject(second.out()).getString("state"), "one job runs at a time");
      CliRun byAuditor = CliRun.of("job", "submit", "--api", api, "--identity", auditor,
          jobFile(privateJob(consortium, "third")).toString());
      assertNotEquals(0, byAuditor.status());
      assertTrue(byAuditor.err().contains("operator certificate"), byAuditor.err());

      JsonObject firstResult = consortium.awaitJob("first");
      JsonObject secondResult = consortium.awaitJob("second");
      assertEquals(2, firstResult.getJsonArray("rounds").size());
      assertEquals(2, secondResult.getJsonArray("rounds").size());

      CliRun list = CliRun.of("job", "list", "--api", api, "--identity", auditor);
      assertEquals(0, list.status(), list.err());
      assertTrue(list.out().matches("(?s).*first\\s+completed\\s+2/2.*second\\s+completed\\s+2/2.*"), list.out());
      CliRun status = CliRun.of("job", "status", "second", "--api", api, "--identity", auditor);
      assertEquals(0, status.status(), status.err());
      JsonObject members = new JsonObject(status.out()).getJsonObject("members");
      assertEquals(true, members.getJsonObject("bank-1").getBoolean("accepted"));
      assertEquals(false, members.getJsonObject("bank-3").getBoolean("accepted"),
          "bank-3's own budget counts the first job: " + status.out());

      // the ledger, read through the API by the auditor, sums each bank's spend across both jobs
      Path export = dir.resolve("ledger.json");
      try (var client = io.consort.cli.jobs.OperatorClient.connect(java.net.URI.create(api), Path.of(auditor))) {
        Files.write(export, client.get("/api/v1/ledger").body().getBytes());
      }
      VerificationResult verified = LedgerVerifier.verify(export,
          PemFiles.readCertificate(consortium.pki.auditor().caFile()));
      assertTrue(verified.valid(), verified.failure().orElse(""));
      assertEquals(4, verified.totals().get("bank-1").releases());
      assertEquals(2, verified.totals().get("bank-3").releases());
      double bank1AfterFirst = firstResult.getJsonObject("privacy").getJsonObject("per_bank")
          .getJsonObject("bank-1").getDouble("epsilon");
      double bank1Total = verified.totals().get("bank-1").recordEpsilon();
      assertTrue(bank1Total > bank1AfterFirst + 0.1, "the second job adds to bank-1's spend: " + bank1AfterFirst
          + " then " + bank1Total);
      assertEquals(bank1Total, secondResult.getJsonObject("privacy").getJsonObject("per_bank")
          .getJsonObject("bank-1").getDouble("epsilon"), 1e-12, "the job's figure is the bank's running total");
      assertTrue(bank1Total <= 3.0, "within bank-1's cap");
      assertTrue(verified.totals().get("bank-3").recordEpsilon() <= 1.2, "within bank-3's cap");

      // each bank keeps the published model of every job it took part in
      for (String bank : java.util.List.of("bank-1", "bank-2")) {
        for (String job : java.util.List.of("first", "second")) {
          Await.within(Duration.ofSeconds(30), bank + " to keep " + job + "'s model", consortium.finished(bank, job));
          assertTrue(Files.exists(consortium.bankDir(bank).resolve("local/jobs/" + job + "-model"
              + PublishedModelFile.EXTENSION)), bank + " keeps " + job);
        }
      }
      assertFalse(Files.exists(consortium.bankDir("bank-3").resolve("local/jobs/second-model"
          + PublishedModelFile.EXTENSION)), "bank-3 did not take part in the second job");

      // the operator pulls the models with their provenance; an auditor may not
      Path pulled = dir.resolve("pulled");
      CliRun pull = CliRun.of("model", "pull", "second", "--api", api, "--identity", operator, "--out",
          pulled.toString());
      assertEquals(0, pull.status(), pull.err());
      var model = PublishedModelFile.read(pulled.resolve("second-model" + PublishedModelFile.EXTENSION));
      assertEquals("second", model.spec().id());
      assertEquals(secondResult.getJsonObject("model").getString("sha256"), model.parametersSha256());
      assertTrue(Files.readString(pulled.resolve("second-model-card.json")).contains("bank-1"));
      CliRun round = CliRun.of("model", "pull", "first", "--round", "1", "--api", api, "--identity", operator,
          "--out", pulled.toString());
      assertEquals(0, round.status(), round.err());
      JsonObject provenance = new JsonObject(Files.readString(pulled.resolve("first-round-1-provenance.json")));
      assertEquals(firstResult.getJsonArray("rounds").getJsonObject(0).getString("model_sha256"),
          provenance.getString("model_sha256"));
      assertEquals(1, provenance.getJsonArray("ledger_entries").size());
      CliRun refused = CliRun.of("model", "pull", "first", "--api", api, "--identity", auditor, "--out",
          pulled.toString());
      assertNotEquals(0, refused.status());
    }
  }

  @Test
  void submit_refusesABadJobFile_namingTheKey_beforeSendingAnything() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "id: bad\nrounds: -2\nmodel:\n  type: forest\n");
    // no coordinator runs at this address: the file is refused before any connection
    CliRun r = CliRun.of("job", "submit", "--api", "https://localhost:1", "--identity", dir.toString(),
        file.toString());
    assertNotEquals(0, r.status());
    assertTrue(r.err().contains("job.model.type") && r.err().contains("forest"), r.err());

    String schema = "schema:\n  label: default\n  positive: 'yes'\n  numeric: [income]\n";
    Files.writeString(file, "id: bad\nrounds: -2\n" + schema);
    r = CliRun.of("job", "submit", "--api", "https://localhost:1", "--identity", dir.toString(), file.toString());
    assertNotEquals(0, r.status());
    assertTrue(r.err().contains("rounds") && r.err().contains("-2"), r.err());

    Files.writeString(file, "id: bad\nrounds: 2\nround: 3\n" + schema);
    r = CliRun.of("job", "submit", "--api", "https://localhost:1", "--identity", dir.toString(), file.toString());
    assertNotEquals(0, r.status());
    assertTrue(r.err().contains("round"), r.err());
  }
}
