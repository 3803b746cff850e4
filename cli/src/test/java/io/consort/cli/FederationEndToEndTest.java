package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The plain path (no secure aggregation, no DP): the baseline the private paths are measured against. */
@Tag("e2e")
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class FederationEndToEndTest {
  @TempDir
  Path dir;

  @Test
  void threeBanks_trainJointModel_overMutualTls() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JsonObject result = consortium.run(consortium.basePlan("e2e", 4).build(), Duration.ofSeconds(60),
          bank -> LocalConsortium.BankSettings.defaults());
      assertEquals("completed", result.getString("status"));
      JsonArray rounds = result.getJsonArray("rounds");
      assertEquals(4, rounds.size());
      for (Object o : rounds) {
        JsonObject r = (JsonObject) o;
        assertEquals(List.of("bank-1", "bank-2", "bank-3"), r.getJsonArray("participants").getList());
        assertTrue(r.getJsonArray("dropped").isEmpty());
        assertEquals(false, r.getBoolean("secure_aggregation"));
      }
      // the synthetic label is strongly predictable; a working federation learns it
      assertTrue(result.getJsonObject("final").getDouble("auc") > 0.75, result.encodePrettily());
      // the last round also measured each column's permutation importance, and only the last
      JsonObject importance = rounds.getJsonObject(3).getJsonObject("importance");
      assertTrue(importance != null && importance.size() >= 2, rounds.getJsonObject(3).encodePrettily());
      assertTrue(rounds.getJsonObject(2).getJsonObject("importance") == null);
      // the final model reaches the banks through their next poll, just after the job completes
      for (String bank : consortium.banks) {
        Await.within(Duration.ofSeconds(30), bank + " to handle the job-finished notice", consortium.finished(bank));
        assertTrue(Files.exists(consortium.bankDir(bank).resolve("local/jobs/e2e-final-model.pb")),
            bank + " keeps the published model");
      }
    }
  }

  @Test
  void bankThatDiesAtTraining_isDroppedAndJobCompletesWithTheOthers() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JsonObject result = consortium.run(consortium.basePlan("e2e", 2).build(), Duration.ofSeconds(8),
          bank -> bank.equals("bank-3") ? new LocalConsortium.BankSettings(3.0, "train", false)
              : LocalConsortium.BankSettings.defaults());
      assertEquals(List.of(3), consortium.faultExits, "the injected fault exits with status 3");
      JsonObject first = result.getJsonArray("rounds").getJsonObject(0);
      assertEquals(List.of("bank-1", "bank-2"), first.getJsonArray("participants").getList());
      assertEquals(List.of("bank-3@train"), first.getJsonArray("dropped").getList());
      assertTrue(result.getJsonObject("final").getDouble("auc") > 0.7);
    }
  }
}
