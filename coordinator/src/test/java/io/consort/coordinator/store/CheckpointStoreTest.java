package io.consort.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.ModelChecksum;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ServerOptimizerState;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints keep the model and the server optimiser's state of the same round together. */
class CheckpointStoreTest {
  @TempDir
  Path dir;

  @Test
  void theNewestCheckpoint_comesBackWithItsServerState() {
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      store.saveCheckpoint("job", 1, model(1, 0.5f), state(1, 0.1));
      store.saveCheckpoint("job", 2, model(2, 0.7f), state(2, 0.2));
      CoordinatorStore.Checkpoint latest = store.latestCheckpoint("job").orElseThrow();
      assertEquals(2, latest.model().getVersion());
      assertEquals(state(2, 0.2), latest.serverState().orElseThrow());
    }
  }

  @Test
  void aCheckpointWrittenBeforeServerStatesExisted_hasNone() throws Exception {
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      store.saveCheckpoint("job", 3, model(3, 0.5f), state(3, 0.1));
    }
    try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("coordinator"), "consort", "")) {
      c.createStatement().executeUpdate("UPDATE checkpoints SET server_state = NULL");
    }
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      assertTrue(store.latestCheckpoint("job").orElseThrow().serverState().isEmpty());
    }
  }

  @Test
  void aCheckpointWhoseModelDoesNotMatchItsChecksum_isRefused() throws Exception {
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      store.saveCheckpoint("job", 1, model(1, 0.5f), state(1, 0.1));
    }
    try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("coordinator"), "consort", "")) {
      c.createStatement().executeUpdate("UPDATE checkpoints SET sha256 = '" + "0".repeat(64) + "'");
    }
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      StoreException e = assertThrows(StoreException.class, () -> store.latestCheckpoint("job"));
      assertTrue(e.getMessage().contains("refusing to resume"), e.getMessage());
    }
  }

  private static ModelParameters model(int round, float value) {
    return ModelParameters.newBuilder().setVersion(round).addValues(value)
        .setSha256(ModelChecksum.sha256Hex(new float[] {value})).build();
  }

  private static ServerOptimizerState state(int steps, double momentum) {
    return ServerOptimizerState.newBuilder().setStrategy("fedadam").setSteps(steps).addMomentum(momentum)
        .addSecondMoment(momentum * momentum).build();
  }
}
