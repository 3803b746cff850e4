package io.consort.cli;

import static java.util.Objects.requireNonNullElse;

import io.consort.coordinator.CoordinatorConfig;
import io.consort.protocol.WireLimits;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The keys of {@code coordinator.yaml} (docs/OPERATIONS.md). A null value was left out of the file (a
 * section left out has every value null); {@link #toConfig} applies the defaults.
 */
record CoordinatorYaml(Listen listen, Tls tls, String dataDir, Integer maxMessageBytes, Integer crlReloadSeconds,
                       Boolean exitWhenDone, Api api, Database database, JobYaml job) {
  CoordinatorYaml {
    listen = requireNonNullElse(listen, new Listen(null, null));
    tls = requireNonNullElse(tls, new Tls(null, null, null, null));
    api = requireNonNullElse(api, new Api(null));
    database = requireNonNullElse(database, new Database(null, null, null));
  }

  /**
   * Where the coordinator's state lives: left out, the embedded database in {@code data_dir}; with
   * {@code url}, a PostgreSQL server. The password is read from {@code password_file} (mode 600),
   * never written in this file.
   */
  record Database(String url, String user, String passwordFile) {}

  record Listen(String host, Integer port) {}

  /** {@code crl}: the CA's CRL, reloaded when it changes; optional. */
  record Tls(String key, String cert, String ca, String crl) {}

  /** The read-only operator API; left out, it is off. */
  record Api(Integer port) {}

  /**
   * The coordinator's settings, relative paths resolved against the directory of {@code file}; not yet
   * validated.
   *
   * @throws IllegalArgumentException naming the key that is missing or wrong
   */
  CoordinatorConfig toConfig(Path file) {
    if (job == null && (api.port() == null || api.port() < 0)) {
      throw new IllegalArgumentException("job or api.port is required: a coordinator runs the job of its "
          + "configuration, or the jobs operators submit through its operator API (see docs/OPERATIONS.md)");
    }
    if (job != null && job.model().keras() != null) {
      throw new IllegalArgumentException("job.model.keras: submit a job that brings a Keras model with `consort job "
          + "submit`, which imports the file; the coordinator runs without DL4J");
    }
    return new CoordinatorConfig(requireNonNullElse(listen.host(), "0.0.0.0"), requireNonNullElse(listen.port(), 7443),
        StrictYaml.resolve(file, "tls.key", tls.key()), StrictYaml.resolve(file, "tls.cert", tls.cert()),
        StrictYaml.resolve(file, "tls.ca", tls.ca()), StrictYaml.resolve(file, "tls.crl", tls.crl()),
        StrictYaml.resolve(file, "data_dir", requireNonNullElse(dataDir, "coordinator-data")),
        requireNonNullElse(maxMessageBytes, WireLimits.DEFAULT_MAX_MESSAGE_BYTES),
        Duration.ofSeconds(requireNonNullElse(crlReloadSeconds, 30)), requireNonNullElse(exitWhenDone, false),
        job == null ? null : job.toDefinition(file), requireNonNullElse(api.port(), -1), databaseSettings(file));
  }

  private io.consort.coordinator.store.DatabaseSettings databaseSettings(Path file) {
    String password = null;
    if (database.passwordFile() != null) {
      Path passwordFile = StrictYaml.resolve(file, "database.password_file", database.passwordFile());
      try {
        password = java.nio.file.Files.readString(passwordFile).strip();
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("database.password_file " + passwordFile + " cannot be read: "
            + e.getMessage(), e);
      }
    }
    return new io.consort.coordinator.store.DatabaseSettings(database.url(), database.user(), password);
  }
}
