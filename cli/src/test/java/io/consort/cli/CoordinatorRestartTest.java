package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.coordinator.store.CoordinatorStore;
import io.consort.spec.JobSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator restarts the coordinator mid-job: nothing is lost, the job resumes from its checkpoint. */
class CoordinatorRestartTest {
  @TempDir
  Path dir;

  @Test
  void restartedCoordinator_resumesJobAfterLastCheckpointedRound() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JobSpec plan = consortium.basePlan("durable", 6).build();
      consortium.startCoordinator(plan, Duration.ofSeconds(30), port);
      consortium.startBanks(bank -> LocalConsortium.BankSettings.defaults());
      Path data = consortium.coordinatorConfig.dataDir();
      int done = 0;
      for (int i = 0; i < 600 && done < 2; i++) {
        Thread.sleep(100);
        try (CoordinatorStore store = CoordinatorStore.open(data)) {
          done = store.rounds("durable").size();
        }
      }
      assertTrue(done >= 2, "two rounds recorded before the restart, got " + done);
      consortium.stopCoordinator();
      int before;
      try (CoordinatorStore store = CoordinatorStore.open(data)) {
        before = store.rounds("durable").size();
      }

      // the banks reconnect by themselves (backoff) to the restarted coordinator
      JsonObject result = consortium.startCoordinator(plan, Duration.ofSeconds(30), port).jobOutcome()
          .await(3, TimeUnit.MINUTES);
      assertEquals("completed", result.getString("status"));
      JsonArray rounds = result.getJsonArray("rounds");
      assertEquals(6, rounds.size(), rounds.encodePrettily());
      for (int r = 0; r < 6; r++) {
        assertEquals(r + 1, rounds.getJsonObject(r).getInteger("round"));
      }
      assertEquals(6, result.getJsonObject("model").getLong("version"));
      assertTrue(before >= 2 && before < 6, "the restart happened mid-job: " + before + " rounds before it");
    }
  }
}
