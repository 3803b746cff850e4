package io.consort.coordinator.api;

import io.consort.coordinator.transport.CallAuthenticator;
import io.consort.identity.Role;
import io.consort.protocol.WireText;
import io.consort.transport.RefusalLog;
import io.consort.coordinator.job.JobRunner;
import io.consort.coordinator.job.LedgerKeeper;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read-only HTTPS API for the consortium operator and privacy auditors, on its own port with
 * the same mutual TLS as the bank service. Every request needs an operator or auditor certificate;
 * a bank's certificate is refused (banks see only what their tasks carry). The certificate is
 * validated on every request against the consortium validator as it stands (CRL, expiry), and every
 * refusal is logged once, rate-limited, with the peer and the reason.
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
  private static final Set<Role> ALLOWED = EnumSet.of(Role.OPERATOR, Role.AUDITOR);

  private OperatorApi() {}

  public static Router router(Vertx vertx, JobRunner job, LedgerKeeper ledger, CallAuthenticator authenticator,
                              RefusalLog refusals) {
    Router router = Router.router(vertx);
    router.route().handler(ctx -> authorise(ctx, authenticator, refusals));
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

  private static void authorise(RoutingContext ctx, CallAuthenticator authenticator, RefusalLog refusals) {
    CallAuthenticator.Verdict who = authenticator.authenticate(ctx.request().connection(), ALLOWED);
    if (who.admitted()) {
      ctx.put("peer", who.identity().name());
      ctx.next();
      return;
    }
    refusals.refused(String.valueOf(ctx.request().connection().remoteAddress()),
        ctx.request().method() + " " + WireText.quote(ctx.request().path()), who.refusal());
    ctx.response().setStatusCode(403).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", who.refusal()).encode());
  }

  private static void json(RoutingContext ctx, JsonObject body) {
    ctx.response().putHeader("content-type", "application/json").end(body.encodePrettily());
  }
}
