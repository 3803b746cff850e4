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
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * Durable coordinator state in an embedded H2 database (file mode) under the data directory,
 * migrated by Flyway. Every method blocks on JDBC: call it from a worker thread, never from a
 * Vert.x event loop.
 */
public final class CoordinatorStore implements AutoCloseable {
  private final JdbcConnectionPool pool;

  private CoordinatorStore(JdbcConnectionPool pool) {
    this.pool = pool;
  }

  /** Opens (creating if needed) the database in {@code dataDir} and applies pending migrations. */
  public static CoordinatorStore open(Path dataDir) {
    try {
      Files.createDirectories(dataDir);
    } catch (java.io.IOException e) {
      throw new StoreException("cannot create data directory " + dataDir + ": " + e.getMessage(), e);
    }
    // embedded only: no AUTO_SERVER, which would open a plaintext TCP port on every interface; one
    // process (the running coordinator) holds the file, and tools read the ledger through the
    // operator API while it runs
    String url = "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("coordinator");
    JdbcConnectionPool pool = JdbcConnectionPool.create(url, "consort", "");
    try {
      Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
    } catch (RuntimeException e) {
      pool.dispose();
      if (inUse(e)) {
        throw new StoreException("the coordinator database in " + dataDir + " is in use by a running coordinator: "
            + "read the ledger through its operator API (GET /api/v1/ledger, operator or auditor certificate) or "
            + "stop the coordinator first", e);
      }
      throw new StoreException("cannot migrate the coordinator database in " + dataDir + ": " + e.getMessage(), e);
    }
    return new CoordinatorStore(pool);
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

  public record JobRow(JobPlan plan, String status, String reason) {}

  public void upsertJob(JobPlan plan, String status, String reason) {
    update("MERGE INTO jobs (job_id, plan, status, reason, created_at, updated_at) KEY (job_id) "
            + "VALUES (?, ?, ?, ?, COALESCE((SELECT created_at FROM jobs WHERE job_id = ?), ?), ?)",
        plan.getJobId(), plan.toByteArray(), status, reason, plan.getJobId(), now(), now());
  }

  public Optional<JobRow> job(String jobId) {
    return queryOne("SELECT plan, status, reason FROM jobs WHERE job_id = ?", rs -> {
      return new JobRow(decode(JobPlan.parser(), rs.getBytes(1), "stored plan of job " + jobId), rs.getString(2),
          rs.getString(3));
    }, jobId);
  }

  // ------------------------------------------------------------------ members

  public void recordEnrolment(String memberId, String certSerial) {
    update("MERGE INTO members (member_id, cert_serial, first_enrolled, last_seen) KEY (member_id) "
            + "VALUES (?, ?, COALESCE((SELECT first_enrolled FROM members WHERE member_id = ?), ?), ?)",
        memberId, certSerial, memberId, now(), now());
  }

  public record JobMemberRow(String memberId, boolean accepted, double projectedEpsilon, String reason,
                             long trainRows, long testRows) {}

  public void recordDecision(String jobId, String memberId, boolean accepted, double projectedEpsilon, String reason) {
    update("MERGE INTO job_members (job_id, member_id, accepted, projected_epsilon, reason) KEY (job_id, member_id) "
        + "VALUES (?, ?, ?, ?, ?)", jobId, memberId, accepted, projectedEpsilon, reason);
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
    update("MERGE INTO rounds (job_id, round_no, status, record) KEY (job_id, round_no) VALUES (?, ?, ?, ?)",
        jobId, round, status, recordJson);
  }

  public List<RoundRow> rounds(String jobId) {
    return query("SELECT round_no, status, record FROM rounds WHERE job_id = ? ORDER BY round_no",
        rs -> new RoundRow(rs.getInt(1), rs.getString(2), rs.getString(3)), jobId);
  }

  /** A checkpointed model and the server optimiser's state after the same round. */
  public record Checkpoint(ModelParameters model, Optional<ServerOptimizerState> serverState) {}

  public void saveCheckpoint(String jobId, int round, ModelParameters model, ServerOptimizerState serverState) {
    update("MERGE INTO checkpoints (job_id, round_no, model, sha256, created_at, server_state) KEY (job_id, round_no) "
        + "VALUES (?, ?, ?, ?, ?, ?)", jobId, round, model.toByteArray(), model.getSha256(), now(),
        serverState.toByteArray());
  }

  /** The newest checkpoint of a job, its model verified against its stored checksum. */
  public Optional<Checkpoint> latestCheckpoint(String jobId) {
    return queryOne("SELECT model, sha256, round_no, server_state FROM checkpoints WHERE job_id = ? "
            + "ORDER BY round_no DESC LIMIT 1",
        rs -> {
          String what = "checkpoint of job " + jobId + " round " + rs.getInt(3);
          ModelParameters model = decode(ModelParameters.parser(), rs.getBytes(1), what);
          if (!ModelChecksum.sha256Hex(ModelWire.values(model)).equals(rs.getString(2))) {
            throw new StoreException(what + " does not match its SHA-256; refusing to resume from it");
          }
          byte[] state = rs.getBytes(4);
          return new Checkpoint(model, state == null ? Optional.empty()
              : Optional.of(decode(ServerOptimizerState.parser(), state, "server state of " + what)));
        }, jobId);
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
    update("MERGE INTO signer_certificates (fingerprint, subject, pem) KEY (fingerprint) VALUES (?, ?, ?)",
        fingerprint, subject, pem);
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

  private void update(String sql, Object... args) {
    try (Connection c = pool.getConnection(); PreparedStatement ps = prepare(c, sql, args)) {
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("database update failed: " + e.getMessage(), e);
    }
  }

  private <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) {
    try (Connection c = pool.getConnection(); PreparedStatement ps = prepare(c, sql, args);
         ResultSet rs = ps.executeQuery()) {
      List<T> out = new ArrayList<>();
      while (rs.next()) {
        out.add(mapper.map(rs));
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("database query failed: " + e.getMessage(), e);
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
    pool.dispose();
  }
}
