package io.consort.coordinator;

import io.consort.coordinator.job.JobDefinition;
import io.consort.coordinator.store.DatabaseSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything the coordinator needs to start. Built from {@code coordinator.yaml} by the CLI;
 * {@link #validate()} names the first bad field so start-up fails with one clear message.
 *
 * @param host address to listen on
 * @param port TLS port of the gRPC endpoint (1-65535; 0 picks a free one, published in
 *     {@code data_dir/ports.json}, see {@link BoundPorts})
 * @param keyFile coordinator private key, PKCS#8 PEM
 * @param certFile coordinator certificate chain, PEM (leaf first)
 * @param caFile the consortium CA certificate, PEM: the only trust anchor
 * @param crlFile the CA's CRL, PEM; reloaded when it changes (may be null)
 * @param dataDir where the database, checkpoints and results live
 * @param maxMessageBytes largest gRPC message accepted
 * @param crlReloadInterval how often the CRL file is checked for changes
 * @param exitWhenDone stop the service once the configured job has finished (the demo uses this)
 * @param job a job to queue at start when it is not stored yet (may be null: a standing service
 *     receives its jobs through the operator API)
 * @param apiPort port of the read-only operator/auditor HTTPS API (same mTLS, operator or auditor role);
 *     -1 disables it, 0 picks a free one (published like {@code port})
 * @param database where the coordinator's state lives: the embedded database in {@code dataDir}
 *     or a PostgreSQL server
 */
public record CoordinatorConfig(String host, int port, Path keyFile, Path certFile, Path caFile, Path crlFile,
                                Path dataDir, int maxMessageBytes, Duration crlReloadInterval, boolean exitWhenDone,
                                JobDefinition job, int apiPort, DatabaseSettings database) {

  /** With the embedded database in {@code dataDir}. */
  public CoordinatorConfig(String host, int port, Path keyFile, Path certFile, Path caFile, Path crlFile, Path dataDir,
                           int maxMessageBytes, Duration crlReloadInterval, boolean exitWhenDone, JobDefinition job,
                           int apiPort) {
    this(host, port, keyFile, certFile, caFile, crlFile, dataDir, maxMessageBytes, crlReloadInterval, exitWhenDone, job,
        apiPort, DatabaseSettings.EMBEDDED);
  }

  /** @throws IllegalArgumentException naming the first field that is wrong and its value */
  public CoordinatorConfig validate() {
    List<String> problems = new ArrayList<>();
    if (host == null || host.isBlank()) {
      problems.add("host must not be empty");
    }
    if (apiPort < -1 || apiPort > 65535) {
      problems.add("api.port must be between 0 and 65535 (0: any free port; -1 disables the API), got " + apiPort);
    }
    if (port < 0 || port > 65535) {
      problems.add("port must be between 0 and 65535 (0: any free port), got " + port);
    }
    requireReadable(problems, "tls.key", keyFile);
    requireReadable(problems, "tls.cert", certFile);
    requireReadable(problems, "tls.ca", caFile);
    if (crlFile != null) {
      requireReadable(problems, "tls.crl", crlFile);
    }
    Objects.requireNonNull(dataDir, "data_dir");
    if (maxMessageBytes < 1024) {
      problems.add("max_message_bytes must be at least 1024, got " + maxMessageBytes);
    }
    Objects.requireNonNull(database, "database");
    if (exitWhenDone && job == null) {
      problems.add("exit_when_done needs a job in the configuration (the job whose end stops the service)");
    }
    if (job == null && apiPort < 0) {
      problems.add("with no job in the configuration the operator API (api.port) is needed to submit jobs");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("coordinator config: " + String.join("; ", problems));
    }
    return this;
  }

  static void requireReadable(List<String> problems, String field, Path file) {
    if (file == null) {
      problems.add(field + " is missing");
    } else if (!Files.isRegularFile(file)) {
      problems.add(field + " file " + file + " does not exist");
    } else if (!Files.isReadable(file)) {
      problems.add(field + " file " + file + " is not readable");
    }
  }
}
