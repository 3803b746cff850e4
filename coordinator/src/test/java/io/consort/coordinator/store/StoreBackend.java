package io.consort.coordinator.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A database the coordinator's store runs on in a test: the embedded one in a fresh directory, or
 * PostgreSQL in a fresh schema of the server {@code CONSORT_TEST_POSTGRES_URL} names (as
 * {@code .ci/run} starts it). Without that variable the PostgreSQL cases are skipped, saying so.
 */
abstract class StoreBackend implements AutoCloseable {
  static final String POSTGRES_URL_VARIABLE = "CONSORT_TEST_POSTGRES_URL";

  abstract CoordinatorStore open();

  /** Runs SQL behind the store's back (to corrupt what it stored). */
  abstract void execute(String sql) throws SQLException;

  static List<String> names() {
    return List.of("embedded", "postgresql");
  }

  static StoreBackend named(String name) throws Exception {
    return switch (name) {
      case "embedded" -> new Embedded(Files.createTempDirectory("consort-store"));
      case "postgresql" -> Postgres.create();
      default -> throw new IllegalArgumentException(name);
    };
  }

  static final class Embedded extends StoreBackend {
    final Path dir;

    Embedded(Path dir) {
      this.dir = dir;
    }

    @Override
    CoordinatorStore open() {
      return CoordinatorStore.open(dir);
    }

    @Override
    void execute(String sql) throws SQLException {
      try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("coordinator"), "consort", "")) {
        c.createStatement().executeUpdate(sql);
      }
    }

    @Override
    public void close() throws Exception {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static final class Postgres extends StoreBackend {
    final String serverUrl;
    final String schema;

    private Postgres(String serverUrl, String schema) {
      this.serverUrl = serverUrl;
      this.schema = schema;
    }

    static Postgres create() throws SQLException {
      String url = System.getenv(POSTGRES_URL_VARIABLE);
      Assumptions.assumeTrue(url != null && !url.isBlank(), POSTGRES_URL_VARIABLE + " is not set, so the store's "
          + "PostgreSQL tests are skipped; .ci/run starts PostgreSQL and sets it (docs/OPERATIONS.md)");
      byte[] random = new byte[6];
      new SecureRandom().nextBytes(random);
      String schema = "store_test_" + HexFormat.of().formatHex(random);
      try (Connection c = DriverManager.getConnection(url)) {
        c.createStatement().executeUpdate("CREATE SCHEMA " + schema);
      }
      return new Postgres(url, schema);
    }

    String url() {
      return serverUrl + (serverUrl.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    @Override
    CoordinatorStore open() {
      return CoordinatorStore.open(new DatabaseSettings(url(), null, null), Path.of("unused"));
    }

    @Override
    void execute(String sql) throws SQLException {
      try (Connection c = DriverManager.getConnection(url())) {
        c.createStatement().executeUpdate(sql);
      }
    }

    @Override
    public void close() throws SQLException {
      try (Connection c = DriverManager.getConnection(serverUrl)) {
        c.createStatement().executeUpdate("DROP SCHEMA " + schema + " CASCADE");
      }
    }
  }
}
