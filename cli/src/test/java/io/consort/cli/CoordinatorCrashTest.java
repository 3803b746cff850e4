package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.PemFiles;
import io.consort.certs.TlsMaterial;
import io.consort.cli.demo.NodeProcesses;
import io.consort.coordinator.BoundPorts;
import io.consort.coordinator.job.LedgerKeeper;
import io.consort.coordinator.store.CoordinatorStore;
import io.consort.privacy.ledger.SignedLedgerEntry;
import io.consort.protocol.v1.Stage;
import io.consort.spec.JobSpec;
import io.consort.spec.PrivacyMode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;

/**
 * The coordinator killed with SIGKILL in the middle of a round, as a real process: the round it was
 * in is recorded as an aborted attempt with nothing released (no ledger entry, no epsilon), the
 * restarted coordinator resumes from the last checkpoint, the banks reconnect by themselves, and the
 * job finishes all its rounds. The kill comes from a bank's own task hook, so it lands exactly while
 * the coordinator holds the stage open.
 */
@Tag("e2e")
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CoordinatorCrashTest {
  private static final int ROUNDS = 3;

  @TempDir
  Path dir;

  /**
   * Two crashes in one job (one setup, to keep the build short): round 2 at training (a pipelined round:
   * its training task carries the forwarded shares), round 3 mid secure aggregation, at unmasking, once the
   * coordinator holds every masked input (round 3 is pipelined too, after the restarted round 2 ran in full:
   * it has no masked-input stage of its own, and as nobody dropped no consistency check either).
   */
  @Test
  void sigkillDuringTrainingAndDuringUnmasking_abortsThoseAttempts_releasingNothing_andTheJobFinishes()
      throws Exception {
    Map<Integer, Stage> killAt = Map.of(2, Stage.TRAIN, 3, Stage.UNMASKING);
    try (LocalConsortium consortium = new LocalConsortium(dir, 3);
         NodeProcesses nodes = new NodeProcesses(Files.createDirectories(dir.resolve("logs")))) {
      JobSpec plan = consortium.basePlan("crash", ROUNDS).secureAggregation(true).secureAggregationClipNorm(10)
          .privacy(PrivacyMode.RECORD).targetEpsilon(2.0).delta(1e-5).recordClipNorm(1.0).build();
      Path yaml = dir.resolve("coordinator.yaml");
      Path data = dir.resolve("coordinator-data");
      writeConfig(yaml, consortium.pki.coordinator(), 0, 0, plan);
      nodes.start("coordinator", "512m", "coordinator", "--config", yaml.toString());
      nodes.awaitFile("coordinator", BoundPorts.file(data), Duration.ofSeconds(60));
      BoundPorts ports = BoundPorts.read(data).orElseThrow();
      // the restarted coordinator listens where the banks reconnect
      writeConfig(yaml, consortium.pki.coordinator(), ports.grpc(), ports.api(), plan);

      Map<Integer, java.util.concurrent.CompletableFuture<Void>> restarted = new java.util.concurrent.ConcurrentHashMap<>();
      killAt.keySet().forEach(r -> restarted.put(r, new java.util.concurrent.CompletableFuture<>()));
      consortium.beforeTask("bank-1", task -> {
        int round = task.getHeader().getRound();
        if (task.getHeader().getStage() == killAt.get(round) && !restarted.get(round).isDone()) {
          nodes.kill("coordinator");
          nodes.restart("coordinator");
          restarted.get(round).complete(null);
        }
      });
      consortium.startBanksAt(ports.grpc(), bank -> LocalConsortium.BankSettings.defaults());

      for (int round : new int[] {2, 3}) {
        Await.within(Duration.ofSeconds(90), "bank-1 to kill the coordinator at " + killAt.get(round) + " of round "
            + round, restarted.get(round));
      }
      assertTrue(nodes.awaitExit("coordinator", Duration.ofSeconds(90)), "the restarted coordinator finishes");
      assertEquals(0, nodes.exitStatus("coordinator"), Files.readString(nodes.logFile("coordinator")));

      JsonObject result = new JsonObject(Files.readString(data.resolve("jobs").resolve("crash-result.json")));
      JsonArray rounds = result.getJsonArray("rounds");
      assertEquals(ROUNDS, rounds.size());
      for (int r = 0; r < ROUNDS; r++) {
        assertEquals("completed", rounds.getJsonObject(r).getString("status"), rounds.getJsonObject(r).encode());
        // each round's model scored once, by the next round's secure sum (the last by its own), across the
        // crashes: round 1's record was stored before the first crash and got its metrics after the restart
        assertTrue(rounds.getJsonObject(r).getValue("auc") != null, rounds.getJsonObject(r).encode());
        assertEquals(Math.min(r + 2, ROUNDS), rounds.getJsonObject(r).getInteger("evaluated_in_round"),
            rounds.getJsonObject(r).encode());
      }
      JsonArray aborted = result.getJsonArray("aborted_attempts");
      String log = Files.readString(nodes.logFile("coordinator"));
      assertEquals(2, aborted.size(), aborted.encode() + "\n" + log);
      assertEquals(2, aborted.getJsonObject(0).getInteger("round"), aborted.encode() + "\n" + log);
      assertEquals("train", aborted.getJsonObject(0).getString("stage"));
      assertEquals(3, aborted.getJsonObject(1).getInteger("round"), aborted.encode() + "\n" + log);
      assertEquals("unmasking", aborted.getJsonObject(1).getString("stage"));

      // one release per completed round and none for the attempt: no epsilon was charged for it
      List<SignedLedgerEntry> entries;
      try (CoordinatorStore store = CoordinatorStore.open(data)) {
        entries = new LedgerKeeper(store, PemFiles.readPrivateKey(consortium.pki.coordinator().keyFile()),
            PemFiles.readCertificates(consortium.pki.coordinator().chainFile()).get(0)).entries();
      }
      assertEquals(List.of(1L, 2L, 3L), entries.stream().map(e -> e.entry().round()).toList());
      Map<String, Integer> releases = new LinkedHashMap<>();
      entries.forEach(e -> e.entry().participatingBanks().forEach(b -> releases.merge(b, 1, Integer::sum)));
      assertEquals(ROUNDS, releases.get("bank-1"));
    }
  }

  private static void writeConfig(Path yaml, TlsMaterial tls, int port, int apiPort, JobSpec plan) throws Exception {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("listen", Map.of("host", "127.0.0.1", "port", port));
    c.put("api", Map.of("port", apiPort));
    c.put("tls", Map.of("key", tls.keyFile().toString(), "cert", tls.chainFile().toString(),
        "ca", tls.caFile().toString(), "crl", tls.crlFile().toString()));
    c.put("data_dir", "coordinator-data");
    c.put("exit_when_done", true);
    c.put("job", ConfigFiles.jobYaml(plan, 3, 60, 20));
    ConfigFiles.write(yaml, c);
  }
}
