package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.accounting.SampledGaussianEvent;
import io.consort.privacy.ledger.BankTotals;
import io.consort.privacy.ledger.VerificationResult;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecBuilder;
import io.consort.spec.PrivacyMode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The private paths end to end over mutual TLS: secure aggregation (with a bank dying mid-protocol),
 * record-level DP-SGD with each bank enforcing its own cap, and the signed ledger that an auditor
 * verifies offline.
 */
@Tag("e2e")
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PrivateFederationTest {
  @TempDir
  Path dir;

  private static JobSpecBuilder secure(JobSpecBuilder plan) {
    return plan.secureAggregation(true).secureAggregationClipNorm(10);
  }

  @Test
  void secureAggregation_survivesBankDyingAtMaskedInput_withSumOfTheOthers() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JsonObject result = consortium.run(secure(consortium.basePlan("secure", 2)).build(), Duration.ofSeconds(20),
          bank -> bank.equals("bank-3") ? new LocalConsortium.BankSettings(3.0, "masked-input", false)
              : LocalConsortium.BankSettings.defaults());
      JsonObject first = result.getJsonArray("rounds").getJsonObject(0);
      assertEquals(true, first.getBoolean("secure_aggregation"));
      assertEquals("completed", first.getString("status"), first.encodePrettily());
      assertEquals(List.of("bank-1", "bank-2"), first.getJsonArray("participants").getList());
      assertEquals(List.of("bank-3@masked-input"), first.getJsonArray("dropped").getList());
      assertEquals(2, result.getJsonArray("rounds").size());
      assertTrue(result.getJsonObject("final").getDouble("auc") > 0.7, result.encodePrettily());
      // the final round's importance came through the evaluation's secure sum
      JsonObject importance = result.getJsonArray("rounds").getJsonObject(1).getJsonObject("importance");
      assertTrue(importance != null && importance.size() >= 2, result.encodePrettily());
      // round 1's model was scored inside round 2's one secure sum, after the updates; round 2's by its own sum
      assertEquals(2, first.getInteger("evaluated_in_round"), first.encodePrettily());
      assertTrue(first.getDouble("auc") > 0.5 && first.getLong("examples") > 0, first.encodePrettily());
      assertEquals(2, result.getJsonArray("rounds").getJsonObject(1).getInteger("evaluated_in_round"));
    }
  }

  @Test
  void recordLevelDp_bankAtItsCapDeclines_jobGoesOn_andLedgerVerifiesOffline() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JobSpec plan = secure(consortium.basePlan("private", 3)).privacy(PrivacyMode.RECORD).targetEpsilon(2.0)
          .delta(1e-5).recordClipNorm(1.0).build();
      // bank-3 allows itself less than the job would cost, and takes part only while its cap allows
      double smallCap = 1.5;
      JsonObject result = consortium.run(plan, Duration.ofSeconds(60),
          bank -> bank.equals("bank-3") ? new LocalConsortium.BankSettings(smallCap, null, true)
              : LocalConsortium.BankSettings.defaults());

      JsonObject privacy = result.getJsonObject("privacy");
      assertEquals("record", privacy.getString("unit"));
      JsonObject bank3 = privacy.getJsonObject("per_bank").getJsonObject("bank-3");
      JsonArray declined = bank3.getJsonArray("declined_rounds");
      assertFalse(declined.isEmpty(), "bank-3 reaches its cap and declines: " + privacy.encodePrettily());
      assertTrue(bank3.getDouble("epsilon") <= smallCap, bank3.encode());
      for (Object o : result.getJsonArray("rounds")) {
        JsonObject r = (JsonObject) o;
        assertEquals("completed", r.getString("status"), "the job goes on with the others: " + r.encode());
        assertTrue(r.getJsonArray("participants").contains("bank-1"));
        if (declined.contains(r.getInteger("round"))) {
          assertFalse(r.getJsonArray("participants").contains("bank-3"));
          assertTrue(r.getJsonArray("declined").contains("bank-3"));
        }
      }
      for (String bank : List.of("bank-1", "bank-2")) {
        assertTrue(privacy.getJsonObject("per_bank").getJsonObject(bank).getDouble("epsilon") <= 2.0);
      }

      VerificationResult verified = auditorsView(consortium);
      assertTrue(verified.headSigned());
      BankTotals totals3 = verified.totals().get("bank-3");
      assertEquals(3 - declined.size(), totals3.releases(), "bank-3 is only in the releases it took part in");
      assertTrue(totals3.recordEpsilon() <= smallCap);
      assertEquals(3, verified.totals().get("bank-1").releases());
    }
  }

  /**
   * Bank-level DP end to end: every bank derives the noise itself, countersigns only entries that
   * account the other survivors' shares exactly as it saw them (the ledger verifies only if every
   * participant countersigned every entry), and a bank at its own bank-level cap declines.
   */
  @Test
  void bankLevelDp_everyBankCountersignsItsOwnAccounting_andABankAtItsBankLevelCapDeclines() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JobSpec plan = secure(consortium.basePlan("bank-level", 3)).privacy(PrivacyMode.BANK).bankNoiseMultiplier(2.0)
          .delta(1e-5).build();
      // one round at its worst case (two survivors, one share a survivor cannot remove) costs about the
      // Gaussian mechanism at z = 2; bank-3 allows itself a little more than one such round
      RdpAccountant accountant = RdpAccountant.defaults();
      double one = accountant.epsilon(List.of(new SampledGaussianEvent(2.0, 1.0, 1)), 1e-5);
      double two = accountant.epsilon(List.of(new SampledGaussianEvent(2.0, 1.0, 2)), 1e-5);
      double bankCap = (one + two) / 2;
      JsonObject result = consortium.run(plan, Duration.ofSeconds(60),
          bank -> bank.equals("bank-3") ? new LocalConsortium.BankSettings(3.0, null, false, bankCap)
              : LocalConsortium.BankSettings.defaults());

      JsonArray declined = result.getJsonObject("privacy").getJsonObject("per_bank").getJsonObject("bank-3")
          .getJsonArray("declined_rounds");
      assertEquals(List.of(2, 3), declined.getList(), result.getJsonObject("privacy").encodePrettily());
      for (Object o : result.getJsonArray("rounds")) {
        assertEquals("completed", ((JsonObject) o).getString("status"), ((JsonObject) o).encode());
      }

      VerificationResult verified = auditorsView(consortium);
      assertEquals(1, verified.totals().get("bank-3").releases());
      assertTrue(verified.totals().get("bank-3").bankEpsilon() <= bankCap, verified.totals().toString());
      assertEquals(3, verified.totals().get("bank-1").releases());
    }
  }

  /**
   * Distributed record-level noise end to end: each round is one federated DP-SGD step whose noise the
   * banks share; every bank derives its share itself, countersigns only entries that account each survivor
   * with the survivors' shares less the one colluder the plan allows for (the ledger verifies only if every
   * participant countersigned every entry), and no bank spends past the target.
   */
  @Test
  void distributedRecordNoise_everyBankCountersignsTheSurvivorsAccounting_andTheLedgerVerifies() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JobSpec plan = secure(consortium.basePlan("distributed", 3)).localEpochs(1).minBanks(3).privacy(PrivacyMode.RECORD)
          .targetEpsilon(2.0).delta(1e-5).recordClipNorm(1.0).distributedRecordNoise(true).colludingBanks(1)
          .recordSamplingRate(0.2).learningRate(1.0).strategy(new io.consort.spec.StrategySpec(
              io.consort.spec.StrategySpec.Name.FEDADAM, 0.03, 0.9, 0.99, 1e-3)).build();
      JsonObject result = consortium.run(plan, Duration.ofSeconds(60), bank -> LocalConsortium.BankSettings.defaults());

      for (Object o : result.getJsonArray("rounds")) {
        assertEquals("completed", ((JsonObject) o).getString("status"), ((JsonObject) o).encode());
      }
      VerificationResult verified = auditorsView(consortium);
      for (String bank : List.of("bank-1", "bank-2", "bank-3")) {
        assertEquals(3, verified.totals().get(bank).releases());
        // all three survived every step: each step is accounted with two of the three shares, which
        // carry the job's z exactly (t = 3, k = 1), so the three steps cost the target
        assertEquals(2.0, verified.totals().get(bank).recordEpsilon(), 1e-3, verified.totals().toString());
      }
      String ledger = java.nio.file.Files.readString(dir.resolve("ledger.json"));
      assertTrue(ledger.contains("distributed-sampled-gaussian"), "the ledger names the mechanism");
    }
  }

  /** The auditor's view: stop the consortium, export from the coordinator's database, verify against the CA alone. */
  private VerificationResult auditorsView(LocalConsortium consortium) throws Exception {
    VerificationResult verified = consortium.auditorsView(dir.resolve("ledger.json"));
    assertTrue(verified.valid(), verified.failure().orElse(""));
    return verified;
  }
}
