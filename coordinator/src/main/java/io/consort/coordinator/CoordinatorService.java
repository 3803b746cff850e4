package io.consort.coordinator;

import io.consort.certs.CrlFileValidator;
import io.consort.certs.PemFiles;
import io.consort.coordinator.transport.CallAuthenticator;
import io.consort.coordinator.transport.CallGuard;
import io.consort.identity.CertificateRejectedException;
import io.consort.identity.CertificateValidator;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.Role;
import io.consort.transport.HandshakeObserver;
import io.consort.transport.RefusalLog;
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
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import io.vertx.grpc.server.GrpcProtocol;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator verticle: a mutual-TLS (TLS 1.3 only, consortium CA pinned, CRL checked) HTTP/2
 * server carrying the gRPC {@code Federation} service, the member registry and the job runner.
 * It stays thin: the domain work lives in {@link JobRunner} and {@link CoordinatorStore}.
 *
 * <p>It refuses to start with a certificate of its own that the consortium's validator refuses
 * (revoked on the configured CRL, expired, not yet valid, not a coordinator's). Every call is
 * checked by {@link CallGuard} against the validator as it stands (so a revocation reaches open
 * connections), every refused handshake and call is logged with the peer and the reason
 * ({@link RefusalLog}, rate-limited), and the servers hold connections to {@link ServerLimits}.
 */
public final class CoordinatorService extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorService.class);
  private static final Logger refusalLogger = LoggerFactory.getLogger("io.consort.coordinator.refusals");

  private final CoordinatorConfig config;
  private final ModelOps modelOps;
  private final ServerLimits limits;
  private final RefusalLog refusals = RefusalLog.of(refusalLogger);
  private CallAuthenticator authenticator;
  private MemberRegistry registry;
  private CoordinatorStore store;
  private LedgerKeeper ledger;
  private HttpServer server;
  private HttpServer apiServer;
  private JobRunner job;
  private long crlTimer = -1;
  private long crlModified;

  public CoordinatorService(CoordinatorConfig config, ModelOps modelOps) {
    this(config, modelOps, ServerLimits.defaults());
  }

  public CoordinatorService(CoordinatorConfig config, ModelOps modelOps, ServerLimits limits) {
    this.config = config.validate();
    this.modelOps = modelOps;
    this.limits = java.util.Objects.requireNonNull(limits, "limits");
  }

  /**
   * The consortium validator with the configured CRL, after checking that it accepts this
   * coordinator's own certificate: a coordinator whose certificate is revoked or expired must not
   * serve, and banks would refuse it anyway.
   */
  private CertificateValidator checkedValidator() throws Exception {
    X509Certificate ca = PemFiles.readCertificate(config.caFile());
    X509CRL crl = config.crlFile() == null ? null : PemFiles.readCrl(config.crlFile());
    CertificateValidator validator;
    try {
      validator = new CertificateValidator(ca, crl);
    } catch (java.security.cert.CRLException e) {
      throw new IllegalStateException("tls.crl " + config.crlFile() + ": " + e.getMessage(), e);
    }
    X509Certificate own = PemFiles.readCertificates(config.certFile()).get(0);
    try {
      validator.validate(own, Role.COORDINATOR);
    } catch (CertificateRejectedException e) {
      throw new IllegalStateException("the coordinator's own certificate (tls.cert " + config.certFile()
          + ") is not usable: " + e.getMessage() + "; the coordinator does not start with it (enrol a new one with"
          + " 'consort certs request' and 'consort certs sign --role coordinator')", e);
    }
    return validator;
  }

  @Override
  public Future<?> start() {
    return vertx.executeBlocking(() -> {
      BoundPorts.remove(config.dataDir());
      authenticator = new CallAuthenticator(checkedValidator());
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
      registry = new MemberRegistry(vertx, limits.pingTimeout());
      Path resultFile = config.dataDir().resolve("jobs").resolve(config.job().jobId() + "-result.json");
      IdentityVerifier verifier;
      try {
        // secure-aggregation key and consistency signatures are checked against the CRL too, as it is now
        verifier = new IdentityVerifier(CrlFileValidator.open(config.caFile(), config.crlFile()));
      } catch (java.io.IOException | java.security.GeneralSecurityException e) {
        return Future.failedFuture(e);
      }
      job = new JobRunner(vertx, config.job(), registry, store, modelOps, ledger, verifier, resultFile);
      GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(config.maxMessageBytes())
          .removeEnabledProtocol(GrpcProtocol.WEB).removeEnabledProtocol(GrpcProtocol.WEB_TEXT)
          .removeEnabledProtocol(GrpcProtocol.TRANSCODING));
      CallGuard guard = new CallGuard(authenticator, grpc, config.maxMessageBytes(), refusals);
      new FederationEndpoint(vertx, registry, job, "coordinator", config.maxMessageBytes(),
          (member, serial) -> vertx.executeBlocking(() -> {
            store.recordEnrolment(member, serial);
            return null;
          }).onFailure(e -> log.error("could not record the enrolment of '{}': {}", member, e.getMessage())),
          guard, refusals, limits.messageTimeout(), limits.maxPoll())
          .bind(grpc);
      HttpServerOptions options = serverOptions().setHost(config.host()).setPort(config.port())
          .setAlpnVersions(List.of(HttpVersion.HTTP_2));
      if (config.crlFile() != null) {
        options.addCrlPath(config.crlFile().toString());
      }
      server = vertx.createHttpServer(options).requestHandler(guard)
          .exceptionHandler(e -> log.debug("connection failed before HTTP: {}", e.getMessage()));
      return server.listen().compose(s -> {
        if (config.apiPort() < 0) {
          return Future.succeededFuture(s);
        }
        HttpServerOptions apiOptions = new HttpServerOptions(options).setPort(config.apiPort()).setUseAlpn(false)
            .setAlpnVersions(List.of(HttpVersion.HTTP_1_1));
        apiServer = vertx.createHttpServer(apiOptions)
            .requestHandler(io.consort.coordinator.api.OperatorApi.router(vertx, job, ledger, authenticator, refusals))
            .exceptionHandler(e -> log.debug("connection failed before HTTP: {}", e.getMessage()));
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
      registry.keepAlive(limits.keepAliveInterval());
      watchCrl();
      job.start();
      return s;
    });
  }

  /**
   * The TLS server settings both ports share: mutual TLS 1.3 with the consortium CA as the only
   * trust anchor, every failed handshake logged with its peer, and the {@link ServerLimits}.
   */
  private HttpServerOptions serverOptions() {
    return new HttpServerOptions().setSsl(true).setUseAlpn(true).setClientAuth(ClientAuth.REQUIRED)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.3"))
        .setKeyCertOptions(keyCert()).setTrustOptions(trust())
        .setSslEngineOptions(new HandshakeObserver((peer, reason) -> refusals.refused(peer, "TLS handshake", reason)))
        .setSslHandshakeTimeout(limits.tlsHandshakeTimeout().toMillis()).setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS)
        .setIdleTimeout((int) limits.idleTimeout().toMillis()).setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        .setInitialSettings(new Http2Settings().setMaxConcurrentStreams(limits.maxConcurrentStreams())
            .setMaxHeaderListSize(limits.maxHeaderListBytes()))
        .setHttp2RstFloodMaxRstFramePerWindow(limits.rstFloodMaxFrames())
        .setHttp2RstFloodWindowDuration((int) limits.rstFloodWindow().toMillis())
        .setHttp2RstFloodWindowDurationTimeUnit(TimeUnit.MILLISECONDS);
  }

  /** The members and their sessions (event loop only: see {@link #onEventLoop}). */
  public MemberRegistry members() {
    return registry;
  }

  /** Runs {@code action} on the coordinator's event loop, where the members and the job live. */
  public Future<Void> onEventLoop(Runnable action) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    context.runOnContext(v -> {
      action.run();
      done.complete();
    });
    return done.future();
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

  /**
   * Applies a new CRL: new handshakes use it, every call from now on is checked against it, and the
   * members whose certificates it revokes are removed and their connections closed. A CRL that does
   * not parse or is not signed by the consortium CA changes nothing.
   */
  private Future<Boolean> applyCrl(Buffer crl) {
    CertificateValidator validator;
    try {
      X509CRL parsed = (X509CRL) CertificateFactory.getInstance("X.509")
          .generateCRL(new ByteArrayInputStream(crl.getBytes()));
      validator = authenticator.validator().withCrl(parsed);
    } catch (java.security.GeneralSecurityException | RuntimeException e) {
      return Future.failedFuture(new IllegalStateException("not a CRL of the consortium CA: " + e.getMessage(), e));
    }
    ServerSSLOptions ssl = new ServerSSLOptions().setClientAuth(ClientAuth.REQUIRED)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.3")).setUseAlpn(true)
        .setKeyCertOptions(keyCert()).setTrustOptions(trust()).addCrlValue(crl);
    Future<Boolean> grpcUpdated = server.updateSSLOptions(ssl, true);
    Future<Boolean> updated = apiServer == null ? grpcUpdated
        : grpcUpdated.compose(ok -> apiServer.updateSSLOptions(new ServerSSLOptions(ssl).setUseAlpn(false), true));
    return updated.map(ok -> {
      authenticator.use(validator);
      List<String> expelled = registry.expelRejected(validator);
      if (!expelled.isEmpty()) {
        log.warn("the new CRL removed {} from the members", expelled);
      }
      return ok;
    });
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
    if (registry != null) {
      registry.stopKeepAlive();
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
