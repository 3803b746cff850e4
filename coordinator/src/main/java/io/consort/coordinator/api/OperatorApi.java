package io.consort.coordinator.api;

import io.consort.identity.CertificateRejectedException;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import io.consort.coordinator.job.JobRunner;
import io.consort.coordinator.job.LedgerKeeper;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read-only HTTPS API for the consortium operator and privacy auditors, on its own port with
 * the same mutual TLS as the bank service. Every request needs an operator or auditor certificate;
 * a bank's certificate is refused (banks see only what their tasks carry).
 *
 * <ul>
 *   <li>{@code GET /api/v1/job}: the job's state, open stage, members and their connections, and
 *       every finished round's record (participants, drops, AUC, epsilon).
 *   <li>{@code GET /api/v1/ledger}: the privacy ledger export (entries, signatures, certificates,
 *       signed head), the same document {@code consort audit export} writes, to verify offline.
 * </ul>
 */
public final class OperatorApi {
  private static final Logger log = LoggerFactory.getLogger(OperatorApi.class);
  private static final Set<Role> ALLOWED = Set.of(Role.OPERATOR, Role.AUDITOR);

  private OperatorApi() {}

  public static Router router(Vertx vertx, JobRunner job, LedgerKeeper ledger) {
    Router router = Router.router(vertx);
    router.route("/api/*").handler(OperatorApi::authorise);
    router.get("/api/v1/job").handler(ctx -> json(ctx, job.status()));
    router.get("/api/v1/ledger").handler(ctx -> vertx.executeBlocking(() -> {
      Path tmp = Files.createTempFile("consort-ledger", ".json");
      try {
        ledger.export(tmp);
        return Files.readString(tmp);
      } finally {
        Files.deleteIfExists(tmp);
      }
    }, true).onSuccess(body -> ctx.response().putHeader("content-type", "application/json").end(body))
        .onFailure(e -> {
          log.error("ledger export for {} failed: {}", ctx.get("peer"), e.getMessage());
          ctx.response().setStatusCode(500).end(new JsonObject().put("error", "ledger export failed: "
              + e.getMessage()).encode());
        }));
    return router;
  }

  private static void authorise(RoutingContext ctx) {
    String refusal;
    try {
      List<Certificate> chain = ctx.request().connection().peerCertificates();
      PeerIdentity peer = PeerIdentity.fromCertificate((X509Certificate) chain.get(0));
      if (ALLOWED.contains(peer.role())) {
        ctx.put("peer", peer.name());
        ctx.next();
        return;
      }
      refusal = "certificate role is " + peer.role().wireName() + "; this API needs operator or auditor";
    } catch (SSLPeerUnverifiedException | CertificateRejectedException | RuntimeException e) {
      refusal = "client certificate not usable: " + e.getMessage();
    }
    log.warn("refused {} {}: {}", ctx.request().method(), ctx.request().path(), refusal);
    ctx.response().setStatusCode(403).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", refusal).encode());
  }

  private static void json(RoutingContext ctx, JsonObject body) {
    ctx.response().putHeader("content-type", "application/json").end(body.encodePrettily());
  }
}
