package io.consort.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.ModelChecksum;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ServerOptimizerState;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The store's contract on both databases it supports, through the same migrations and SQL: the
 * embedded one and PostgreSQL ({@link StoreBackend}; skipped with a message without a server).
 */
@Timeout(60)
class StoreOnEitherDatabaseTest {
  static List<String> backends() {
    return StoreBackend.names();
  }

  private static JobPlan plan(String id) {
    return JobPlan.newBuilder().setJobId(id).setRounds(3).build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void jobs_queueInOrder_refuseAReusedId_andKeepTheirSchedulingAcrossAStatusChange(String backend) throws Exception {
    try (StoreBackend db = StoreBackend.named(backend); CoordinatorStore store = db.open()) {
      assertEquals(1, store.queueJob(plan("b"), 3, 60_000, 30_000));
      assertEquals(2, store.queueJob(plan("a"), 2, 10_000, 5_000));
      StoreException reused = assertThrows(StoreException.class, () -> store.queueJob(plan("a"), 2, 1, 1));
      assertTrue(reused.getMessage().contains("'a' exists already"), reused.getMessage());
      store.upsertJob(plan("a"), "RUNNING", null);
      store.upsertJob(plan("a"), "CANCELLED", "cancelled by operator");
      List<CoordinatorStore.JobRow> jobs = store.jobs();
      assertEquals(List.of("b", "a"), jobs.stream().map(j -> j.plan().getJobId()).toList());
      CoordinatorStore.JobRow a = store.job("a").orElseThrow();
      assertEquals("CANCELLED", a.status());
      assertEquals("cancelled by operator", a.reason());
      assertEquals(2, a.expectedBanks());
      assertEquals(10_000L, a.startTimeoutMillis());
      assertEquals(5_000L, a.stageTimeoutMillis());
      assertEquals(plan("a"), a.plan());
      // a job stored by the configuration (no queue place, no scheduling) comes first
      store.upsertJob(plan("configured"), "WAITING", null);
      assertEquals("configured", store.jobs().get(0).plan().getJobId());
      assertEquals(null, store.job("configured").orElseThrow().expectedBanks());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void membersDecisionsAndRounds_areUpdatedInPlace(String backend) throws Exception {
    try (StoreBackend db = StoreBackend.named(backend); CoordinatorStore store = db.open()) {
      store.recordEnrolment("bank-1", "01");
      store.recordEnrolment("bank-1", "02");
      store.recordDecision("job", "bank-1", false, Double.NaN, "no data");
      store.recordDecision("job", "bank-1", true, 1.5, null);
      store.recordRows("job", "bank-1", 100, 20);
      CoordinatorStore.JobMemberRow row = store.jobMembers("job").get(0);
      assertEquals(new CoordinatorStore.JobMemberRow("bank-1", true, 1.5, null, 100, 20), row);
      store.recordRound("job", 1, "ABORTED", "{\"round\":1}");
      store.recordRound("job", 1, "COMPLETED", "{\"round\":1,\"again\":true}");
      store.recordRound("job", 2, "COMPLETED", "{\"round\":2}");
      List<CoordinatorStore.RoundRow> rounds = store.rounds("job");
      assertEquals(2, rounds.size());
      assertEquals(new CoordinatorStore.RoundRow(1, "COMPLETED", "{\"round\":1,\"again\":true}"), rounds.get(0));
      store.ping();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void checkpoints_comeBackByRoundAndNewest_andATamperedOneIsRefused(String backend) throws Exception {
    try (StoreBackend db = StoreBackend.named(backend)) {
      try (CoordinatorStore store = db.open()) {
        store.saveCheckpoint("job", 1, model(1, 0.5f), state(1));
        store.saveCheckpoint("job", 2, model(2, 0.7f), state(2));
        store.saveCheckpoint("job", 2, model(2, 0.9f), state(3));
        assertEquals(model(2, 0.9f), store.latestCheckpoint("job").orElseThrow().model());
        assertEquals(state(3), store.latestCheckpoint("job").orElseThrow().serverState().orElseThrow());
        assertEquals(model(1, 0.5f), store.checkpoint("job", 1).orElseThrow().model());
        assertFalse(store.checkpoint("job", 3).isPresent());
      }
      db.execute("UPDATE checkpoints SET sha256 = '" + "0".repeat(64) + "' WHERE round_no = 2");
      try (CoordinatorStore store = db.open()) {
        StoreException e = assertThrows(StoreException.class, () -> store.latestCheckpoint("job"));
        assertTrue(e.getMessage().contains("refusing to resume"), e.getMessage());
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void theLedger_keepsItsEntriesInSequence_andItsSignersOnce(String backend) throws Exception {
    try (StoreBackend db = StoreBackend.named(backend); CoordinatorStore store = db.open()) {
      store.appendLedgerEntry(new CoordinatorStore.LedgerRow(1, "job", 1, "aa", "{\"e\":1}"));
      store.appendLedgerEntry(new CoordinatorStore.LedgerRow(2, "job", 2, "bb", "{\"e\":2}"));
      assertThrows(StoreException.class, () ->
          store.appendLedgerEntry(new CoordinatorStore.LedgerRow(2, "job", 3, "cc", "{}")), "a sequence is never reused");
      assertEquals(List.of(1L, 2L), store.ledgerEntries().stream().map(CoordinatorStore.LedgerRow::sequence).toList());
      store.saveSignerCertificate("f1", "CN=a", "pem-1");
      store.saveSignerCertificate("f1", "CN=a", "pem-1");
      store.saveSignerCertificate("f0", "CN=b", "pem-0");
      assertEquals(List.of("pem-0", "pem-1"), store.signerCertificatesPem());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void reopening_appliesNoMigrationTwice_andKeepsTheData(String backend) throws Exception {
    try (StoreBackend db = StoreBackend.named(backend)) {
      try (CoordinatorStore store = db.open()) {
        store.queueJob(plan("kept"), 1, 1, 1);
      }
      try (CoordinatorStore store = db.open()) {
        assertEquals("QUEUED", store.job("kept").orElseThrow().status());
      }
    }
  }

  @Test
  void anUnreachablePostgres_failsAtOnce_namingTheServer_butNotThePassword() {
    DatabaseSettings settings = new DatabaseSettings("jdbc:postgresql://127.0.0.1:1/consort?password=hunter2",
        "consort", "s3cret");
    StoreException e = assertThrows(StoreException.class, () -> CoordinatorStore.open(settings, Path.of("unused")));
    assertTrue(e.getMessage().contains("jdbc:postgresql://127.0.0.1:1/consort"), e.getMessage());
    assertFalse(e.getMessage().contains("hunter2") || e.getMessage().contains("s3cret"), e.getMessage());
    assertFalse(settings.toString().contains("hunter2") || settings.toString().contains("s3cret"));
  }

  @Test
  void aDatabaseUrlThatIsNotPostgres_isRefusedNamingTheKey() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new DatabaseSettings("jdbc:mysql://db/consort", null, null));
    assertTrue(e.getMessage().startsWith("database.url"), e.getMessage());
  }

  private static ModelParameters model(int round, float value) {
    return ModelParameters.newBuilder().setVersion(round).addValues(value)
        .setSha256(ModelChecksum.sha256Hex(new float[] {value})).build();
  }

  private static ServerOptimizerState state(int steps) {
    return ServerOptimizerState.newBuilder().setStrategy("fedadam").setSteps(steps).addMomentum(0.1 * steps).build();
  }
}
