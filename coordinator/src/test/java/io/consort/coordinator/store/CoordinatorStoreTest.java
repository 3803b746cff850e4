package io.consort.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.ModelChecksum;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ServerOptimizerState;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's database is embedded: one process at a time, no network port. With H2's
 * AUTO_SERVER (as before) a second process would get in through a plaintext TCP server the first
 * one opens on every interface; here it is refused.
 */
class CoordinatorStoreTest {
  @TempDir
  Path dir;

  /** Holds the store open in another process until its standard input closes. */
  public static final class HoldOpen {
    public static void main(String[] args) throws Exception {
      try (CoordinatorStore store = CoordinatorStore.open(Path.of(args[0]))) {
        System.out.println("open");
        System.out.flush();
        System.in.read();
      }
    }
  }

  /** Writes rows one by one, saying so after each commit, until it is killed. */
  public static final class WriteUntilKilled {
    public static void main(String[] args) throws Exception {
      try (CoordinatorStore store = CoordinatorStore.open(Path.of(args[0]))) {
        for (int round = 1; ; round++) {
          store.openAttempt("job", round);
          store.attemptStage("job", round, "train");
          System.out.println("committed " + round);
          System.out.flush();
        }
      }
    }
  }

  /**
   * H2 URL settings that make the store reuse the space of dead chunks at once, as H2 does by itself
   * once its retention time (45 s) has passed since the file was created: the state a coordinator's
   * database is in from the second minute of a job on.
   */
  static final String REUSE_AT_ONCE = ";RETENTION_TIME=0";

  /**
   * Resumes job "job" after its latest checkpoint, as a restarted coordinator does, and records the
   * rounds after it (attempt, stage, then record, checkpoint and close in one transaction), saying so after each round, until it
   * is killed.
   */
  public static final class RecordRoundsUntilKilled {
    public static void main(String[] args) throws Exception {
      try (CoordinatorStore store = CoordinatorStore.openEmbedded(Path.of(args[0]), REUSE_AT_ONCE)) {
        int after = store.latestCheckpoint("job").map(c -> (int) c.model().getVersion()).orElse(0);
        System.out.println("resumes after " + after);
        java.util.Random random = new java.util.Random(after);
        for (int round = after + 1; ; round++) {
          store.openAttempt("job", round);
          store.attemptStage("job", round, "train");
          float[] values = new float[300 + random.nextInt(800)];
          java.util.Arrays.fill(values, round);
          ModelParameters.Builder model = ModelParameters.newBuilder().setVersion(round)
              .setSha256(ModelChecksum.sha256Hex(values));
          for (float v : values) {
            model.addValues(v);
          }
          store.finishRound("job", round, "COMPLETED", "{\"round\":" + round + ",\"pad\":\""
              + "x".repeat(2000 + random.nextInt(6000)) + "\"}", model.build(), ServerOptimizerState.getDefaultInstance());
          System.out.println("recorded " + round);
          System.out.flush();
          // a coordinator's writes come some time apart
          Thread.sleep(50 + random.nextInt(400));
        }
      }
    }
  }

  /**
   * Commits rows into a scratch table of the coordinator's embedded database (its own URL settings,
   * space reused at once), a new row per transaction, some with a BLOB and a CLOB, a few hundred
   * milliseconds apart, saying so after each commit, until it is killed.
   */
  public static final class CommitUntilKilled {
    public static void main(String[] args) throws Exception {
      int life = Integer.parseInt(args[1]);
      org.h2.jdbcx.JdbcConnectionPool pool = org.h2.jdbcx.JdbcConnectionPool.create(
          CoordinatorStore.embeddedUrl(Path.of(args[0])) + REUSE_AT_ONCE, "consort", "");
      try (java.sql.Connection c = pool.getConnection()) {
        c.createStatement().execute("CREATE TABLE IF NOT EXISTS scratch (life INT, seq INT, body BLOB, note CLOB, "
            + "PRIMARY KEY (life, seq))");
      }
      java.util.Random random = new java.util.Random(life);
      for (int seq = 1; ; seq++) {
        try (java.sql.Connection c = pool.getConnection()) {
          c.setAutoCommit(false);
          try (java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO scratch VALUES (?, ?, ?, ?)")) {
            ps.setInt(1, life);
            ps.setInt(2, seq);
            byte[] body = new byte[seq % 5 == 0 ? 1500 + random.nextInt(3000) : 0];
            random.nextBytes(body);
            ps.setBytes(3, body);
            ps.setString(4, "x".repeat(seq % 5 == 0 ? 2000 + random.nextInt(6000) : 0));
            ps.executeUpdate();
          }
          c.commit();
        }
        System.out.println("committed " + seq);
        System.out.flush();
        Thread.sleep(50 + random.nextInt(400));
      }
    }
  }

  /**
   * A coordinator killed, restarted and killed again once H2 reuses the space of dead chunks (from 45 s
   * after the file was created): every commit either process reported is there at the next start. With
   * H2's default REUSE_SPACE, 7 of 7 runs of this interleaving lost commits, in 5 of them every commit of
   * the second process, which is how CoordinatorCrashTest's third coordinator resumed after round 1.
   */
  @Test
  @Timeout(120)
  void everyReportedCommit_survivesTwoKills_evenWhenH2ReusesSpace() throws Exception {
    int[] committed = new int[3];
    for (int life = 1; life <= 2; life++) {
      Process writer = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), CommitUntilKilled.class.getName(), dir.toString(),
          Integer.toString(life))).redirectErrorStream(true).start();
      try {
        BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while (committed[life] < 12 && (line = out.readLine()) != null) {
          if (line.startsWith("committed ")) {
            committed[life] = Integer.parseInt(line.substring("committed ".length()));
          }
        }
      } finally {
        writer.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
      }
      assertEquals(12, committed[life], "process " + life + " committed before it was killed");
    }
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(CoordinatorStore.embeddedUrl(dir), "consort", "");
         java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT life, COUNT(*) FROM scratch GROUP BY life")) {
      java.util.Map<Integer, Integer> found = new java.util.HashMap<>();
      while (rs.next()) {
        found.put(rs.getInt(1), rs.getInt(2));
      }
      for (int life = 1; life <= 2; life++) {
        assertTrue(found.getOrDefault(life, 0) >= committed[life], "process " + life + " reported " + committed[life]
            + " commits; the database holds " + found.getOrDefault(life, 0));
      }
    }
  }

  /**
   * The failing interleaving of {@code CoordinatorCrashTest} through the store's own calls: a
   * coordinator killed, restarted and killed again (four lives, space reused at once), each start
   * resuming after the last round the killed process reported. It guards the resume; it did not lose
   * rounds in the few runs made without REUSE_SPACE=FALSE (its write pattern rarely hits the loss
   * {@link #everyReportedCommit_survivesTwoKills_evenWhenH2ReusesSpace} shows).
   */
  @Test
  @Timeout(120)
  void aCoordinatorKilledRepeatedly_resumesAfterTheLastRoundItRecorded_withSpaceReusedAtOnce() throws Exception {
    int recorded = 0;
    for (int life = 1; life <= 4; life++) {
      Process writer = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), RecordRoundsUntilKilled.class.getName(), dir.toString()))
          .redirectErrorStream(true).start();
      int resumedAfter = -1;
      int target = recorded + 15;
      try {
        BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while (recorded < target && (line = out.readLine()) != null) {
          if (line.startsWith("resumes after ")) {
            resumedAfter = Integer.parseInt(line.substring("resumes after ".length()));
          } else if (line.startsWith("recorded ")) {
            recorded = Integer.parseInt(line.substring("recorded ".length()));
          }
        }
      } finally {
        // killed between two rounds, as the reported one is done: nothing of it may be missing at the next start
        Thread.sleep(40 + 90L * life);
        writer.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
      }
      // the process may have recorded more rounds between its last report read and the kill
      int before = target - 15;
      assertTrue(resumedAfter >= before,
          "process " + life + " resumes after round " + resumedAfter + ", but round " + before + " was recorded");
      assertEquals(target, recorded, "process " + life + " recorded its rounds before it was killed");
    }
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      long latest = store.latestCheckpoint("job").orElseThrow().model().getVersion();
      assertTrue(latest >= recorded, "latest checkpoint " + latest + ", but round " + recorded + " was recorded");
      int last = recorded;
      assertEquals(recorded, store.rounds("job").stream().filter(r -> r.round() <= last).count());
    }
  }

  @Test
  void finishRound_recordsTheRoundCheckpointsItAndClosesItsAttempt() {
    float[] values = {1f, 2f, 3f};
    ModelParameters model = ModelParameters.newBuilder().setVersion(1).setSha256(ModelChecksum.sha256Hex(values))
        .addValues(1f).addValues(2f).addValues(3f).build();
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      store.openAttempt("job", 1);
      store.attemptStage("job", 1, "ledger-countersign");

      store.finishRound("job", 1, "COMPLETED", "{\"round\":1}", model, ServerOptimizerState.getDefaultInstance());

      assertEquals(List.of(new CoordinatorStore.RoundRow(1, "COMPLETED", "{\"round\":1}")), store.rounds("job"));
      assertEquals(1, store.latestCheckpoint("job").orElseThrow().model().getVersion());
      // a restart that found round 1 not checkpointed would abort an attempt still open: there is none
      assertEquals(List.of(), store.abortOpenAttempts("job", 0));
      assertEquals(2, store.openAttempt("job", 1));
    }
  }

  /** Without reused space the file keeps every version while open; a clean close compacts it. */
  @Test
  @Timeout(60)
  void aCleanClose_compactsTheFile() throws Exception {
    float[] values = new float[10_000];
    ModelParameters.Builder model = ModelParameters.newBuilder().setSha256(ModelChecksum.sha256Hex(values));
    for (float v : values) {
      model.addValues(v);
    }
    Path file = dir.resolve("coordinator.mv.db");
    long open;
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      for (int round = 1; round <= 60; round++) {
        store.saveCheckpoint("job", 1, model.setVersion(1).build(), ServerOptimizerState.getDefaultInstance());
      }
      open = java.nio.file.Files.size(file);
    }
    long closed = java.nio.file.Files.size(file);
    assertTrue(closed * 4 < open, "open " + open + " bytes, closed " + closed);
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      assertEquals(1, store.latestCheckpoint("job").orElseThrow().model().getVersion());
    }
  }

  @Test
  @Timeout(60)
  void whatWasCommitted_survivesAKilledProcess() throws Exception {
    Process writer = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), WriteUntilKilled.class.getName(), dir.toString()))
        .redirectErrorStream(true).start();
    int committed = 0;
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while (committed < 50 && (line = out.readLine()) != null) {
        if (line.startsWith("committed ")) {
          committed = Integer.parseInt(line.substring("committed ".length()));
        }
      }
    } finally {
      writer.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
    }
    assertTrue(committed >= 50, "the writer committed rows before it was killed");
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      // every attempt the writer reported committed is there, with its stage
      List<CoordinatorStore.AttemptRow> open = store.abortOpenAttempts("job", 0);
      assertTrue(open.size() >= committed, "committed " + committed + ", found " + open.size());
      assertEquals("train", open.get(committed - 1).stage());
    }
  }

  @Test
  @Timeout(60)
  void openingItWhileARunningCoordinatorHoldsIt_failsNamingTheOperatorApi() throws Exception {
    Process holder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), HoldOpen.class.getName(), dir.toString()))
        .redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = out.readLine()) != null && !line.equals("open")) {
        // the holder's log lines
      }
      assertEquals("open", line, "the other process opened the store");
      StoreException e = assertThrows(StoreException.class, () -> CoordinatorStore.open(dir));
      assertTrue(e.getMessage().contains("is in use by a running coordinator") && e.getMessage().contains("/api/v1/ledger"),
          e.getMessage());
    } finally {
      holder.getOutputStream().close();
      holder.waitFor(20, TimeUnit.SECONDS);
      holder.destroyForcibly();
    }
  }
}
