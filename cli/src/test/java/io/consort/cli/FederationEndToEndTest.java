package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.coordinator.CoordinatorConfig;
import io.consort.coordinator.CoordinatorService;
import io.consort.coordinator.job.JobDefinition;
import io.consort.coordinator.model.FederatedModelOps;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DatasetLoader;
import io.consort.model.wire.ModelWire;
import io.consort.participant.BankTaskHandler;
import io.consort.participant.ParticipantConfig;
import io.consort.participant.ParticipantDaemon;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelSpec;
import io.consort.protocol.v1.ModelType;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole consortium in one JVM but over the real network stack: a coordinator and three bank
 * daemons, each with its own Vert.x instance, talking gRPC over mutual TLS on loopback.
 */
class FederationEndToEndTest {
  @TempDir
  Path dir;

  private final List<Vertx> vertxes = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (Vertx v : vertxes) {
      v.close().await(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void threeBanks_trainJointModel_overMutualTls() throws Exception {
    JsonObject result = runFederation(3, 4, null);
    assertEquals("completed", result.getString("status"));
    JsonArray rounds = result.getJsonArray("rounds");
    assertEquals(4, rounds.size());
    for (Object o : rounds) {
      JsonObject r = (JsonObject) o;
      assertEquals(List.of("bank-1", "bank-2", "bank-3"), r.getJsonArray("participants").getList());
      assertTrue(r.getJsonArray("dropped").isEmpty());
    }
    // the synthetic label is strongly predictable; a working federation learns it
    assertTrue(result.getJsonObject("final").getDouble("auc") > 0.75, result.encodePrettily());
    for (int b = 1; b <= 3; b++) {
      Path finalModel = dir.resolve("bank-" + b).resolve("local").resolve("jobs").resolve("e2e-final-model.pb");
      assertTrue(Files.exists(finalModel), "bank-" + b + " keeps the published model");
    }
  }

  @Test
  void bankThatDiesAtTraining_isDroppedAndJobCompletesWithTheOthers() throws Exception {
    AtomicInteger exitStatus = new AtomicInteger(-1);
    JsonObject result = runFederation(3, 2, exitStatus);
    assertEquals(3, exitStatus.get(), "the injected fault exits with status 3");
    JsonObject first = result.getJsonArray("rounds").getJsonObject(0);
    assertEquals(List.of("bank-1", "bank-2"), first.getJsonArray("participants").getList());
    assertEquals(List.of("bank-3@train"), first.getJsonArray("dropped").getList());
    assertTrue(result.getJsonObject("final").getDouble("auc") > 0.7);
  }

  /** Runs a job; when {@code bank3Exit} is given, bank-3 "dies" when its first training task arrives. */
  private JsonObject runFederation(int banks, int rounds, AtomicInteger bank3Exit) throws Exception {
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= banks; i++) {
      names.add("bank-" + i);
    }
    DemoPki pki = DemoPki.create(dir.resolve("pki"), "coordinator", names);
    Path all = TestData.loanCsv(dir.resolve("all.csv"), 240 * banks, 11);
    DataSchema schema = DatasetLoader.inferSchema(all, "default", "yes");
    JobPlan plan = JobPlan.newBuilder().setJobId("e2e").setSchema(ModelWire.schema(schema))
        .setModel(ModelSpec.newBuilder().setType(ModelType.MLP).addHiddenLayers(16).setBatchSize(32)
            .setLearningRate(0.01).setSeed(3))
        .setRounds(rounds).setLocalEpochs(2).setMinBanks(2).setTestFraction(0.25).setSplitSeed(5)
        .setHistogramBins(1000).build();
    TlsMaterial c = pki.coordinator();
    Vertx coordinatorVertx = Vertx.vertx();
    vertxes.add(coordinatorVertx);
    // stage deadline: long enough for a loaded CI machine, short enough that a dead bank costs little
    CoordinatorService service = new CoordinatorService(new CoordinatorConfig("127.0.0.1", 0, c.keyFile(),
        c.chainFile(), c.caFile(), c.crlFile(), dir.resolve("coordinator"), 16 << 20, Duration.ofSeconds(30), false,
        new JobDefinition(plan, banks, Duration.ofSeconds(60), Duration.ofSeconds(bank3Exit == null ? 60 : 8))),
        new FederatedModelOps());
    coordinatorVertx.deployVerticle(service).await(30, TimeUnit.SECONDS);

    List<String> lines = Files.readAllLines(all);
    for (int b = 0; b < banks; b++) {
      String bank = names.get(b);
      Path bankDir = Files.createDirectories(dir.resolve(bank));
      List<String> own = new ArrayList<>();
      own.add(lines.get(0));
      own.addAll(lines.subList(1 + b * 240, 1 + (b + 1) * 240));
      Path data = Files.write(bankDir.resolve("data.csv"), own);
      TlsMaterial t = pki.bank(bank);
      boolean faulty = bank3Exit != null && bank.equals("bank-3");
      ParticipantConfig config = new ParticipantConfig("localhost", service.actualPort(), t.keyFile(),
          t.chainFile(), t.caFile(), data, bankDir.resolve("local"), 3.0, 1e-5, 16 << 20, faulty ? "train" : null, false);
      Vertx v = Vertx.vertx();
      vertxes.add(v);
      ParticipantDaemon[] daemon = new ParticipantDaemon[1];
      daemon[0] = new ParticipantDaemon(v, config, new BankTaskHandler(config), status -> {
        bank3Exit.set(status);
        daemon[0].stop();
      });
      daemon[0].start();
    }
    return service.jobOutcome().await(4, TimeUnit.MINUTES);
  }
}
