package io.consort.coordinator.store;

import io.consort.model.wire.ModelWire;
import io.consort.protocol.ModelChecksum;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.WireLimits;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ServerOptimizerState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * Durable coordinator state, migrated by Flyway: an embedded H2 database (file mode) under the data
 * directory by default, or a PostgreSQL database named by a JDBC URL. The same migrations and the
 * same SQL run on both (see {@link #open(DatabaseSettings, Path)}). Every method blocks on JDBC:
 * call it from a worker thread, never from a Vert.x event loop.
 */
public final class CoordinatorStore implements AutoCloseable {
  private final DataSource dataSource;
  private final Runnable disposer;

  private CoordinatorStore(DataSource dataSource, Runnable disposer) {
    this.dataSource = dataSource;
    this.disposer = disposer;
  }

  /** Opens (creating if needed) the embedded database in {@code dataDir} and applies pending migrations. */
  public static CoordinatorStore open(Path dataDir) {
    return open(DatabaseSettings.EMBEDDED, dataDir);
  }

  /**
   * Opens the database {@code settings} name (the embedded one in {@code dataDir} when they name
   * none) and applies pending migrations.
   *
   * @throws StoreException saying which database could not be reached or migrated, and why
   */
  public static CoordinatorStore open(DatabaseSettings settings, Path dataDir) {
    if (settings.embedded()) {
      return openEmbedded(dataDir);
    }
    org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
    ds.setURL(settings.url());
    if (settings.user() != null) {
      ds.setUser(settings.user());
    }
    if (settings.password() != null) {
      ds.setPassword(settings.password());
    }
    ds.setConnectTimeout(10);
    ds.setApplicationName("consort-coordinator");
    migrate(ds, true, () -> { }, "the coordinator database at " + settings.redactedUrl());
    return new CoordinatorStore(ds, () -> { });
  }

  private static CoordinatorStore openEmbedded(Path dataDir) {
    return openEmbedded(dataDir, "");
  }

  /**
   * The embedded database's URL. WRITE_DELAY=0: a commit reaches the file before it returns (H2
   * otherwise buffers half a second of commits, which a killed coordinator loses: a checkpoint it
   * logged, a round it recorded). REUSE_SPACE=FALSE: every commit is appended to the file. Once a
   * chunk is older than H2's retention time (45 s after the file was created), H2 writes new commits
   * into the space of dead chunks, and a process killed after that loses them on the next open: all
   * of them, back to the last chunk written at the file's end, although each commit had returned
   * (measured: a coordinator killed 50 s into a job came back without the round, checkpoint and ledger
   * entry it had recorded, and ran the round again; {@code CoordinatorStoreTest}).
   */
  static String embeddedUrl(Path dataDir) {
    return "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("coordinator") + ";WRITE_DELAY=0;REUSE_SPACE=FALSE";
  }

  /** {@code extraSettings}: H2 URL settings appended to {@link #embeddedUrl}, for tests ("" otherwise). */
  static CoordinatorStore openEmbedded(Path dataDir, String extraSettings) {
    try {
      Files.createDirectories(dataDir);
    } catch (java.io.IOException e) {
      throw new StoreException("cannot create data directory " + dataDir + ": " + e.getMessage(), e);
    }
    // embedded only: no AUTO_SERVER, which would open a plaintext TCP port on every interface; one
    // process (the running coordinator) holds the file, and tools read the ledger through the
    // operator API while it runs
    String url = embeddedUrl(dataDir) + extraSettings;
    JdbcConnectionPool pool = JdbcConnectionPool.create(url, "consort", "");
    try {
      migrate(pool, false, pool::dispose, "the coordinator database in " + dataDir);
    } catch (StoreException e) {
      if (inUse(e)) {
        throw new StoreException("the coordinator database in " + dataDir + " is in use by a running coordinator: "
            + "read the ledger through its operator API (GET /api/v1/ledger, operator or auditor certificate) or "
            + "stop the coordinator first", e);
      }
      throw e;
    }
    return new CoordinatorStore(pool, () -> compactAndDispose(pool));
  }

  /**
   * Without reused space the file keeps every version written while the coordinator ran (300 commits
   * of a 40 kB row: 26 MB); a clean stop compacts it (to 12 kB there). A coordinator that is killed
   * leaves it as it is, until its next clean stop.
   */
  private static void compactAndDispose(JdbcConnectionPool pool) {
    try (Connection c = pool.getConnection(); java.sql.Statement s = c.createStatement()) {
      s.execute("SHUTDOWN COMPACT");
    } catch (SQLException e) {
      // not compacted: the file stays as large as it is, and is compacted at the next clean stop
    }
    pool.dispose();
  }

  /**
   * Applies the migrations. On PostgreSQL the {@code db/postgresql} callback first declares the
   * types the migrations name that PostgreSQL lacks ({@code BLOB}, {@code CLOB}) as domains over
   * {@code bytea} and {@code text}, so that one set of migrations serves both databases and the
   * embedded databases created before PostgreSQL was supported keep their checksums.
   */
  private static void migrate(DataSource ds, boolean postgres, Runnable onFailure, String what) {
    try {
      var flyway = Flyway.configure().dataSource(ds);
      flyway = postgres ? flyway.locations("classpath:db/migration", "classpath:db/postgresql")
          : flyway.locations("classpath:db/migration");
      flyway.load().migrate();
    } catch (RuntimeException e) {
      onFailure.run();
      throw new StoreException("cannot open or migrate " + what + ": " + rootMessage(e), e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t.getMessage() + ")";
  }

  /** H2's "database may be already in use" (another process holds the file lock). */
  private static boolean inUse(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLException s && s.getErrorCode() == org.h2.api.ErrorCode.DATABASE_ALREADY_OPEN_1) {
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ jobs

  /**
   * A job as stored: its plan, state and why, the coordinator's scheduling rules and its place in
   * the queue (scheduling and place are null for a job stored before the queue existed).
   */
  public record JobRow(JobPlan plan, String status, String reason, Integer expectedBanks, Long startTimeoutMillis,
                       Long stageTimeoutMillis, Long queueSeq, Instant createdAt, Instant updatedAt) {}

  /** Sets a job's state, inserting the job (with no place in the queue) when it is not stored yet. */
  public void upsertJob(JobPlan plan, String status, String reason) {
    inTransaction(c -> {
      if (update(c, "UPDATE jobs SET status = ?, reason = ?, updated_at = ? WHERE job_id = ?",
          status, reason, now(), plan.getJobId()) == 0) {
        update(c, "INSERT INTO jobs (job_id, plan, status, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            plan.getJobId(), plan.toByteArray(), status, reason, now(), now());
      }
      return null;
    });
  }

  /**
   * Queues a new job: stores it as {@code QUEUED} after every job stored so far.
   *
   * @return its place in the queue
   * @throws StoreException when a job with its id is stored already
   */
  public long queueJob(JobPlan plan, int expectedBanks, long startTimeoutMillis, long stageTimeoutMillis) {
    return inTransaction(c -> {
      if (!query(c, "SELECT 1 FROM jobs WHERE job_id = ?", rs -> 1, plan.getJobId()).isEmpty()) {
        throw new StoreException("a job with id '" + plan.getJobId() + "' exists already");
      }
      long seq = query(c, "SELECT COALESCE(MAX(queue_seq), 0) FROM jobs", rs -> rs.getLong(1)).get(0) + 1;
      update(c, "INSERT INTO jobs (job_id, plan, status, reason, created_at, updated_at, expected_banks, "
              + "start_timeout_ms, stage_timeout_ms, queue_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          plan.getJobId(), plan.toByteArray(), "QUEUED", null, now(), now(), expectedBanks, startTimeoutMillis,
          stageTimeoutMillis, seq);
      return seq;
    });
  }

  private static final String JOB_COLUMNS = "plan, status, reason, expected_banks, start_timeout_ms, "
      + "stage_timeout_ms, queue_seq, created_at, updated_at, job_id";

  private static JobRow jobRow(ResultSet rs) throws SQLException {
    return new JobRow(decode(JobPlan.parser(), rs.getBytes(1), "stored plan of job " + rs.getString(10)),
        rs.getString(2), rs.getString(3), (Integer) rs.getObject(4, Integer.class), rs.getObject(5, Long.class),
        rs.getObject(6, Long.class), rs.getObject(7, Long.class), rs.getTimestamp(8).toInstant(),
        rs.getTimestamp(9).toInstant());
  }

  public Optional<JobRow> job(String jobId) {
    return queryOne("SELECT " + JOB_COLUMNS + " FROM jobs WHERE job_id = ?", CoordinatorStore::jobRow, jobId);
  }

  /** Every stored job, in the order they were queued (jobs stored before the queue existed first). */
  public List<JobRow> jobs() {
    return query("SELECT " + JOB_COLUMNS + " FROM jobs ORDER BY COALESCE(queue_seq, 0), created_at, job_id",
        CoordinatorStore::jobRow);
  }

  /** Whether the database answers (a readiness probe). */
  public void ping() {
    query("SELECT 1", rs -> rs.getInt(1));
  }

  // ------------------------------------------------------------------ members

  public void recordEnrolment(String memberId, String certSerial) {
    upsert("UPDATE members SET cert_serial = ?, last_seen = ? WHERE member_id = ?", new Object[] {certSerial, now(),
        memberId}, "INSERT INTO members (member_id, cert_serial, first_enrolled, last_seen) VALUES (?, ?, ?, ?)",
        new Object[] {memberId, certSerial, now(), now()});
  }

  public record JobMemberRow(String memberId, boolean accepted, double projectedEpsilon, String reason,
                             long trainRows, long testRows) {}

  public void recordDecision(String jobId, String memberId, boolean accepted, double projectedEpsilon, String reason) {
    upsert("UPDATE job_members SET accepted = ?, projected_epsilon = ?, reason = ? WHERE job_id = ? AND member_id = ?",
        new Object[] {accepted, projectedEpsilon, reason, jobId, memberId},
        "INSERT INTO job_members (job_id, member_id, accepted, projected_epsilon, reason) VALUES (?, ?, ?, ?, ?)",
        new Object[] {jobId, memberId, accepted, projectedEpsilon, reason});
  }

  public void recordRows(String jobId, String memberId, long trainRows, long testRows) {
    update("UPDATE job_members SET train_rows = ?, test_rows = ? WHERE job_id = ? AND member_id = ?",
        trainRows, testRows, jobId, memberId);
  }

  public List<JobMemberRow> jobMembers(String jobId) {
    return query("SELECT member_id, accepted, projected_epsilon, reason, train_rows, test_rows FROM job_members "
        + "WHERE job_id = ? ORDER BY member_id", rs -> new JobMemberRow(rs.getString(1), rs.getBoolean(2),
        rs.getDouble(3), rs.getString(4), rs.getLong(5), rs.getLong(6)), jobId);
  }

  // ------------------------------------------------------------------ rounds and checkpoints

  public record RoundRow(int round, String status, String recordJson) {}

  public void recordRound(String jobId, int round, String status, String recordJson) {
    inTransaction(c -> {
      recordRound(c, jobId, round, status, recordJson);
      return null;
    });
  }

  private static void recordRound(Connection c, String jobId, int round, String status, String recordJson)
      throws SQLException {
    upsert(c, "UPDATE rounds SET status = ?, record = ? WHERE job_id = ? AND round_no = ?",
        new Object[] {status, recordJson, jobId, round},
        "INSERT INTO rounds (job_id, round_no, status, record) VALUES (?, ?, ?, ?)",
        new Object[] {jobId, round, status, recordJson});
  }

  /**
   * The end of round {@code round}, in one transaction (one commit, not three, on the coordinator's path
   * between rounds): its record, its checkpoint and the close of its open attempt. A crash leaves all
   * three or none; a restart then resumes after this round or runs it again.
   */
  public void finishRound(String jobId, int round, String status, String recordJson, ModelParameters model,
                          ServerOptimizerState serverState) {
    inTransaction(c -> {
      recordRound(c, jobId, round, status, recordJson);
      saveCheckpoint(c, jobId, round, model, serverState);
      closeAttempt(c, jobId, round);
      return null;
    });
  }

  public List<RoundRow> rounds(String jobId) {
    return query("SELECT round_no, status, record FROM rounds WHERE job_id = ? ORDER BY round_no",
        rs -> new RoundRow(rs.getInt(1), rs.getString(2), rs.getString(3)), jobId);
  }

  /** A checkpointed model and the server optimiser's state after the same round. */
  public record Checkpoint(ModelParameters model, Optional<ServerOptimizerState> serverState) {}

  public void saveCheckpoint(String jobId, int round, ModelParameters model, ServerOptimizerState serverState) {
    inTransaction(c -> {
      saveCheckpoint(c, jobId, round, model, serverState);
      return null;
    });
  }

  private static void saveCheckpoint(Connection c, String jobId, int round, ModelParameters model,
                                     ServerOptimizerState serverState) throws SQLException {
    // encoded once, whichever statement uses them
    byte[] modelBytes = model.toByteArray();
    byte[] stateBytes = serverState.toByteArray();
    Timestamp at = now();
    upsert(c, "UPDATE checkpoints SET model = ?, sha256 = ?, created_at = ?, server_state = ? WHERE job_id = ? "
        + "AND round_no = ?", new Object[] {modelBytes, model.getSha256(), at, stateBytes, jobId, round},
        "INSERT INTO checkpoints (job_id, round_no, model, sha256, created_at, server_state) VALUES (?, ?, ?, ?, ?, ?)",
        new Object[] {jobId, round, modelBytes, model.getSha256(), at, stateBytes});
  }

  /** The newest checkpoint of a job, its model verified against its stored checksum. */
  public Optional<Checkpoint> latestCheckpoint(String jobId) {
    return queryOne("SELECT model, sha256, round_no, server_state FROM checkpoints WHERE job_id = ? "
        + "ORDER BY round_no DESC LIMIT 1", rs -> checkpoint(rs, jobId), jobId);
  }

  /** The checkpoint of a job after {@code round}, its model verified against its stored checksum. */
  public Optional<Checkpoint> checkpoint(String jobId, int round) {
    return queryOne("SELECT model, sha256, round_no, server_state FROM checkpoints WHERE job_id = ? AND round_no = ?",
        rs -> checkpoint(rs, jobId), jobId, round);
  }

  private static Checkpoint checkpoint(ResultSet rs, String jobId) throws SQLException {
    String what = "checkpoint of job " + jobId + " round " + rs.getInt(3);
    ModelParameters model = decode(ModelParameters.parser(), rs.getBytes(1), what);
    if (!ModelChecksum.sha256Hex(ModelWire.values(model)).equals(rs.getString(2))) {
      throw new StoreException(what + " does not match its SHA-256; refusing to resume from it");
    }
    byte[] state = rs.getBytes(4);
    return new Checkpoint(model, state == null ? Optional.empty()
        : Optional.of(decode(ServerOptimizerState.parser(), state, "server state of " + what)));
  }

  // ------------------------------------------------------------------ round attempts

  /** An attempt at a round: its number, state, the last stage it opened, when it started. */
  public record AttemptRow(int round, int attempt, String status, String stage, Instant startedAt) {}

  /** Opens the next attempt at {@code round}; returns its number (1 for the first). */
  public int openAttempt(String jobId, int round) {
    return inTransaction(c -> {
      int attempt = query(c, "SELECT COALESCE(MAX(attempt), 0) FROM round_attempts WHERE job_id = ? AND round_no = ?",
          rs -> rs.getInt(1), jobId, round).get(0) + 1;
      update(c, "INSERT INTO round_attempts (job_id, round_no, attempt, status, started_at) "
          + "VALUES (?, ?, ?, 'OPEN', ?)", jobId, round, attempt, now());
      return attempt;
    });
  }

  /** Notes the stage the open attempt at {@code round} has reached. */
  public void attemptStage(String jobId, int round, String stage) {
    update("UPDATE round_attempts SET stage = ? WHERE job_id = ? AND round_no = ? AND status = 'OPEN'",
        stage, jobId, round);
  }

  /** Closes the open attempt at {@code round}: the round was recorded. */
  public void closeAttempt(String jobId, int round) {
    inTransaction(c -> closeAttempt(c, jobId, round));
  }

  private static int closeAttempt(Connection c, String jobId, int round) throws SQLException {
    return update(c, "UPDATE round_attempts SET status = 'DONE', ended_at = ? WHERE job_id = ? AND round_no = ? "
        + "AND status = 'OPEN'", now(), jobId, round);
  }

  /**
   * At a job's (re)start: the attempts a stop or crash left open are closed, as done when their
   * round was checkpointed ({@code checkpointedRound} or before), as aborted otherwise.
   *
   * @return the attempts this marked aborted
   */
  public List<AttemptRow> abortOpenAttempts(String jobId, int checkpointedRound) {
    return inTransaction(c -> {
      update(c, "UPDATE round_attempts SET status = 'DONE', ended_at = ? WHERE job_id = ? AND status = 'OPEN' "
          + "AND round_no <= ?", now(), jobId, checkpointedRound);
      List<AttemptRow> open = query(c, "SELECT round_no, attempt, status, stage, started_at FROM round_attempts "
          + "WHERE job_id = ? AND status = 'OPEN' ORDER BY round_no, attempt", CoordinatorStore::attemptRow, jobId);
      update(c, "UPDATE round_attempts SET status = 'ABORTED', ended_at = ? WHERE job_id = ? AND status = 'OPEN'",
          now(), jobId);
      return open;
    });
  }

  /** Every aborted attempt of a job, in order. */
  public List<AttemptRow> abortedAttempts(String jobId) {
    return query("SELECT round_no, attempt, status, stage, started_at FROM round_attempts WHERE job_id = ? "
        + "AND status = 'ABORTED' ORDER BY round_no, attempt", CoordinatorStore::attemptRow, jobId);
  }

  private static AttemptRow attemptRow(ResultSet rs) throws SQLException {
    return new AttemptRow(rs.getInt(1), rs.getInt(2), rs.getString(3), rs.getString(4), rs.getTimestamp(5).toInstant());
  }

  // ------------------------------------------------------------------ privacy ledger

  public record LedgerRow(long sequence, String jobId, int round, String entryHash, String entryJson) {}

  public void appendLedgerEntry(LedgerRow row) {
    update("INSERT INTO ledger_entries (seq, job_id, round_no, entry_hash, entry, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        row.sequence(), row.jobId(), row.round(), row.entryHash(), row.entryJson(), now());
  }

  public List<LedgerRow> ledgerEntries() {
    return query("SELECT seq, job_id, round_no, entry_hash, entry FROM ledger_entries ORDER BY seq",
        rs -> new LedgerRow(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getString(4), rs.getString(5)));
  }

  public void saveSignerCertificate(String fingerprint, String subject, String pem) {
    upsert("UPDATE signer_certificates SET subject = ?, pem = ? WHERE fingerprint = ?",
        new Object[] {subject, pem, fingerprint},
        "INSERT INTO signer_certificates (fingerprint, subject, pem) VALUES (?, ?, ?)",
        new Object[] {fingerprint, subject, pem});
  }

  public List<String> signerCertificatesPem() {
    return query("SELECT pem FROM signer_certificates ORDER BY fingerprint", rs -> rs.getString(1));
  }

  // ------------------------------------------------------------------ plumbing

  @FunctionalInterface
  private interface RowMapper<T> {
    T map(ResultSet rs) throws SQLException;
  }

  /** Stored messages once crossed the wire, so the wire's size limit and decoder apply to them too. */
  private static <T extends com.google.protobuf.MessageLite> T decode(com.google.protobuf.Parser<T> parser,
                                                                      byte[] bytes, String what) {
    try {
      return WireLimits.decode(parser, bytes, WireLimits.DEFAULT_MAX_MESSAGE_BYTES, what);
    } catch (ProtocolViolationException e) {
      throw new StoreException(e.getMessage() + "; the database is corrupt", e);
    }
  }

  private static Timestamp now() {
    return Timestamp.from(Instant.now());
  }

  @FunctionalInterface
  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** Runs {@code work} in one transaction on one connection: all of it is committed, or none. */
  private <T> T inTransaction(Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        // a pooled connection goes back as it came: each later statement commits on its own
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new StoreException("database update failed: " + e.getMessage(), e);
    }
  }

  /**
   * Updates a row, or inserts it when the update found none, in one transaction; portable SQL (the
   * embedded database's {@code MERGE ... KEY} and PostgreSQL's {@code ON CONFLICT} differ). The
   * coordinator's store has one writer, the job's ordered worker, so no other insert races it.
   */
  private void upsert(String updateSql, Object[] updateArgs, String insertSql, Object[] insertArgs) {
    inTransaction(c -> {
      upsert(c, updateSql, updateArgs, insertSql, insertArgs);
      return null;
    });
  }

  private static void upsert(Connection c, String updateSql, Object[] updateArgs, String insertSql,
                             Object[] insertArgs) throws SQLException {
    if (update(c, updateSql, updateArgs) == 0) {
      update(c, insertSql, insertArgs);
    }
  }

  private void update(String sql, Object... args) {
    inTransaction(c -> update(c, sql, args));
  }

  private static int update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = prepare(c, sql, args)) {
      return ps.executeUpdate();
    }
  }

  private <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) {
    try (Connection c = dataSource.getConnection()) {
      return query(c, sql, mapper, args);
    } catch (SQLException e) {
      throw new StoreException("database query failed: " + e.getMessage(), e);
    }
  }

  private static <T> List<T> query(Connection c, String sql, RowMapper<T> mapper, Object... args) throws SQLException {
    try (PreparedStatement ps = prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
      List<T> out = new ArrayList<>();
      while (rs.next()) {
        out.add(mapper.map(rs));
      }
      return out;
    }
  }

  private <T> Optional<T> queryOne(String sql, RowMapper<T> mapper, Object... args) {
    List<T> rows = query(sql, mapper, args);
    return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
  }

  private static PreparedStatement prepare(Connection c, String sql, Object... args) throws SQLException {
    PreparedStatement ps = c.prepareStatement(sql);
    for (int i = 0; i < args.length; i++) {
      ps.setObject(i + 1, args[i]);
    }
    return ps;
  }

  @Override
  public void close() {
    disposer.run();
  }
}
