package io.consort.coordinator;

import io.consort.certs.CrlFileValidator;
import io.consort.certs.PemFiles;
import io.consort.identity.IdentityVerifier;
import io.consort.coordinator.job.JobRunner;
import io.consort.coordinator.job.LedgerKeeper;
import io.consort.coordinator.job.ModelOps;
import io.consort.coordinator.store.CoordinatorStore;
import io.consort.coordinator.transport.FederationEndpoint;
import io.consort.coordinator.transport.MemberRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator verticle: a mutual-TLS (TLS 1.3 only, consortium CA pinned, CRL checked) HTTP/2
 * server carrying the gRPC {@code Federation} service, the member registry and the job runner.
 * It stays thin: the domain work lives in {@link JobRunner} and {@link CoordinatorStore}.
 */
public final class CoordinatorService extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorService.class);

  private final CoordinatorConfig config;
  private final ModelOps modelOps;
  private CoordinatorStore store;
  private LedgerKeeper ledger;
  private HttpServer server;
  private HttpServer apiServer;
  private JobRunner job;
  private long crlTimer = -1;
  private long crlModified;

  public CoordinatorService(CoordinatorConfig config, ModelOps modelOps) {
    this.config = config.validate();
    this.modelOps = modelOps;
  }

  @Override
  public Future<?> start() {
    return vertx.executeBlocking(() -> {
      BoundPorts.remove(config.dataDir());
      CoordinatorStore opened = CoordinatorStore.open(config.dataDir());
      try {
        // the coordinator signs ledger entries with the key of its TLS identity
        ledger = new LedgerKeeper(opened, PemFiles.readPrivateKey(config.keyFile()),
            PemFiles.readCertificates(config.certFile()).get(0));
      } catch (RuntimeException | java.io.IOException e) {
        opened.close();
        throw e;
      }
      return opened;
    }).compose(opened -> {
      store = opened;
      MemberRegistry registry = new MemberRegistry(vertx);
      Path resultFile = config.dataDir().resolve("jobs").resolve(config.job().jobId() + "-result.json");
      IdentityVerifier verifier;
      try {
        // secure-aggregation key and consistency signatures are checked against the CRL too, as it is now
        verifier = new IdentityVerifier(CrlFileValidator.open(config.caFile(), config.crlFile()));
      } catch (java.io.IOException | java.security.GeneralSecurityException e) {
        return Future.failedFuture(e);
      }
      job = new JobRunner(vertx, config.job(), registry, store, modelOps, ledger, verifier, resultFile);
      GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(config.maxMessageBytes()));
      new FederationEndpoint(registry, job, "coordinator", config.maxMessageBytes(),
          (member, serial) -> vertx.executeBlocking(() -> {
            store.recordEnrolment(member, serial);
            return null;
          }).onFailure(e -> log.error("could not record the enrolment of '{}': {}", member, e.getMessage())))
          .bind(grpc);
      HttpServerOptions options = new HttpServerOptions().setHost(config.host()).setPort(config.port())
          .setSsl(true).setUseAlpn(true).setClientAuth(ClientAuth.REQUIRED)
          .setEnabledSecureTransportProtocols(Set.of("TLSv1.3"))
          .setKeyCertOptions(keyCert()).setTrustOptions(trust());
      if (config.crlFile() != null) {
        options.addCrlPath(config.crlFile().toString());
      }
      server = vertx.createHttpServer(options).requestHandler(grpc);
      return server.listen().compose(s -> {
        if (config.apiPort() < 0) {
          return Future.succeededFuture(s);
        }
        HttpServerOptions apiOptions = new HttpServerOptions(options).setPort(config.apiPort()).setUseAlpn(false);
        apiServer = vertx.createHttpServer(apiOptions)
            .requestHandler(io.consort.coordinator.api.OperatorApi.router(vertx, job, ledger));
        return apiServer.listen().map(api -> {
          log.info("operator API on https://{}:{}/api/v1/job (operator or auditor certificate)", config.host(),
              api.actualPort());
          return s;
        });
      });
    }).compose(s -> vertx.executeBlocking(() -> {
      // with port 0 in the config, this file is how a launcher learns the ports the OS picked
      new BoundPorts(s.actualPort(), apiPort()).write(config.dataDir());
      return s;
    })).map(s -> {
      log.info("coordinator listening on {}:{} (mTLS, TLS 1.3)", config.host(), s.actualPort());
      watchCrl();
      job.start();
      return s;
    });
  }

  /** The operator API's port, or -1 when it is disabled. */
  public int apiPort() {
    return apiServer == null ? -1 : apiServer.actualPort();
  }

  /** The port actually bound (useful when the config asked for port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  public Future<JsonObject> jobOutcome() {
    return job.outcome();
  }

  private PemKeyCertOptions keyCert() {
    return new PemKeyCertOptions().setKeyPath(config.keyFile().toString()).setCertPath(config.certFile().toString());
  }

  private PemTrustOptions trust() {
    return new PemTrustOptions().addCertPath(config.caFile().toString());
  }

  /**
   * Revocations take effect without a restart: when the CRL file changes, the server's TLS options
   * are replaced; new handshakes use the new CRL.
   */
  private void watchCrl() {
    if (config.crlFile() == null) {
      return;
    }
    crlModified = lastModified(config.crlFile());
    crlTimer = vertx.setPeriodic(config.crlReloadInterval().toMillis(), t ->
        vertx.executeBlocking(() -> lastModified(config.crlFile())).onSuccess(modified -> {
          if (modified != crlModified) {
            crlModified = modified;
            reloadCrl();
          }
        }));
  }

  /** Re-reads the CRL now; completes when new handshakes use it. */
  public Future<Boolean> reloadCrl() {
    return vertx.fileSystem().readFile(config.crlFile().toString()).compose(this::applyCrl).onComplete(ar -> {
      if (ar.succeeded()) {
        log.info("CRL reloaded from {}", config.crlFile());
      } else {
        log.error("CRL {} could not be reloaded; the previous one stays in force: {}", config.crlFile(),
            ar.cause().getMessage());
      }
    });
  }

  private Future<Boolean> applyCrl(Buffer crl) {
    ServerSSLOptions ssl = new ServerSSLOptions().setClientAuth(ClientAuth.REQUIRED)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.3")).setUseAlpn(true)
        .setKeyCertOptions(keyCert()).setTrustOptions(trust()).addCrlValue(crl);
    Future<Boolean> grpcUpdated = server.updateSSLOptions(ssl, true);
    return apiServer == null ? grpcUpdated
        : grpcUpdated.compose(ok -> apiServer.updateSSLOptions(new ServerSSLOptions(ssl).setUseAlpn(false), true));
  }

  private static long lastModified(Path file) {
    try {
      return Files.getLastModifiedTime(file).toMillis() ^ Files.size(file);
    } catch (java.io.IOException e) {
      return -1;
    }
  }

  @Override
  public Future<?> stop() {
    if (crlTimer >= 0) {
      vertx.cancelTimer(crlTimer);
    }
    Future<Void> closed = (apiServer == null ? Future.<Void>succeededFuture() : apiServer.close())
        .eventually(() -> server == null ? Future.succeededFuture() : server.close());
    return closed.eventually(() -> vertx.executeBlocking(() -> {
      BoundPorts.remove(config.dataDir());
      if (store != null) {
        store.close();
      }
      return null;
    }));
  }
}
