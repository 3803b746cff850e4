package io.consort.coordinator.api;

import io.consort.coordinator.job.JobDefinition;
import io.consort.coordinator.job.JobQueue;
import io.consort.coordinator.job.LedgerKeeper;
import io.consort.coordinator.store.CoordinatorStore;
import io.consort.coordinator.transport.CallAuthenticator;
import io.consort.identity.Role;
import io.consort.privacy.ledger.SignedEntryJson;
import io.consort.privacy.ledger.SignedLedgerEntry;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.WireLimits;
import io.consort.protocol.WireText;
import io.consort.protocol.v1.JobPlan;
import io.consort.scoring.ConsortVersion;
import io.consort.spec.InvalidJobSpecException;
import io.consort.spec.JobSpecWire;
import io.consort.transport.RefusalLog;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS API for the consortium operator and privacy auditors, on its own port with the same
 * mutual TLS as the bank service. The certificate is validated on every request against the
 * consortium validator as it stands (CRL, expiry), and every refusal is logged once, rate-limited,
 * with the peer and the reason. A bank's (participant's) certificate gets nothing: banks see only
 * what their tasks carry.
 *
 * <table>
 *   <caption>Routes and the roles they admit</caption>
 *   <tr><th>route</th><th>operator</th><th>auditor</th></tr>
 *   <tr><td>{@code GET /api/v1/jobs}, {@code GET /api/v1/jobs/ID}, {@code GET /api/v1/job} (the running or last job)</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>{@code POST /api/v1/jobs} (submit), {@code POST /api/v1/jobs/ID/cancel}</td><td>yes</td><td>no</td></tr>
 *   <tr><td>{@code GET /api/v1/jobs/ID/model[?round=N]}</td><td>yes</td><td>no</td></tr>
 *   <tr><td>{@code GET /api/v1/ledger} (the signed export {@code consort audit verify} reads)</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>{@code GET /metrics} (Prometheus), {@code GET /health}, {@code GET /ready}</td><td>yes</td><td>yes</td></tr>
 * </table>
 */
public final class OperatorApi {
  private static final Logger log = LoggerFactory.getLogger(OperatorApi.class);
  private static final Set<Role> ALLOWED = EnumSet.of(Role.OPERATOR, Role.AUDITOR);
  private static final Set<String> SUBMISSION_KEYS = Set.of("plan", "expected_banks", "start_timeout_seconds",
      "stage_timeout_seconds");

  /** What else the API serves besides the jobs and the ledger; any may be absent. */
  public record Extras(Handler<RoutingContext> metrics, Handler<RoutingContext> health, Handler<RoutingContext> ready,
                       java.util.function.Consumer<Router> more) {
    public static final Extras NONE = new Extras(null, null, null, r -> { });
  }

  private OperatorApi() {}

  public static Router router(Vertx vertx, JobQueue jobs, CoordinatorStore store, LedgerKeeper ledger,
                              CallAuthenticator authenticator, RefusalLog refusals, int maxBodyBytes, Path jobsDir) {
    return router(vertx, jobs, store, ledger, authenticator, refusals, maxBodyBytes, jobsDir, Extras.NONE);
  }

  public static Router router(Vertx vertx, JobQueue jobs, CoordinatorStore store, LedgerKeeper ledger,
                              CallAuthenticator authenticator, RefusalLog refusals, int maxBodyBytes, Path jobsDir,
                              Extras extras) {
    Router router = Router.router(vertx);
    router.route().handler(ctx -> authorise(ctx, authenticator, refusals));
    Handler<RoutingContext> operatorOnly = ctx -> {
      if (ctx.get("role") == Role.OPERATOR) {
        ctx.next();
        return;
      }
      refusals.refused(String.valueOf(ctx.request().connection().remoteAddress()),
          ctx.request().method() + " " + WireText.quote(ctx.request().path()),
          "role " + ctx.get("role") + " may not do this (operator only)");
      error(ctx, 403, "this needs an operator certificate; '" + ctx.get("peer") + "' is an auditor");
    };

    router.get("/api/v1/job").handler(ctx -> {
      var current = jobs.current();
      if (current.isEmpty()) {
        error(ctx, 404, "no job has started yet");
      } else {
        json(ctx, 200, current.get().status());
      }
    });
    router.get("/api/v1/jobs").handler(ctx -> json(ctx, 200, new JsonObject().put("jobs", jobs.list())));
    // Vert.x reads a body before the route's own handlers; the certificate was checked before it
    router.post("/api/v1/jobs").handler(BodyHandler.create().setBodyLimit(maxBodyBytes)).handler(operatorOnly)
        .handler(ctx -> {
          JobDefinition definition;
          try {
            definition = submission(ctx.body().buffer(), maxBodyBytes);
          } catch (IllegalArgumentException e) {
            error(ctx, 400, e.getMessage());
            return;
          }
          reply(ctx, 201, jobs.submit(definition).onSuccess(job ->
              log.info("job '{}' submitted by '{}'", definition.jobId(), ctx.<String>get("peer"))));
        });
    router.get("/api/v1/jobs/:id").handler(ctx -> reply(ctx, 200, jobs.status(ctx.pathParam("id"))));
    router.post("/api/v1/jobs/:id/cancel").handler(operatorOnly).handler(ctx -> {
      log.info("job '{}': cancellation requested by '{}'", WireText.quote(ctx.pathParam("id")), ctx.<String>get("peer"));
      reply(ctx, 200, jobs.cancel(ctx.pathParam("id"), ctx.get("peer")));
    });
    router.get("/api/v1/jobs/:id/model").handler(operatorOnly).handler(ctx -> model(vertx, ctx, jobs, store, ledger,
        jobsDir));
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
          error(ctx, 500, "ledger export failed: " + e.getMessage());
        }));
    if (extras.metrics() != null) {
      router.get("/metrics").handler(extras.metrics());
    }
    if (extras.health() != null) {
      router.get("/health").handler(extras.health());
    }
    if (extras.ready() != null) {
      router.get("/ready").handler(extras.ready());
    }
    extras.more().accept(router);
    return router;
  }

  /**
   * A job submission: {@code plan} (the job's {@code JobPlan}, protobuf, base64) as {@code consort
   * job submit} builds it from a job file, and the coordinator's scheduling rules. Validated as
   * strictly as a bank validates a plan it is offered: unknown keys, a field the plan's mode does
   * not use, or a value out of range are refused, naming the field.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  static JobDefinition submission(Buffer body, int maxBytes) {
    JsonObject json;
    try {
      json = body == null ? null : body.toJsonObject();
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException("the submission is not a JSON object: " + e.getMessage());
    }
    if (json == null) {
      throw new IllegalArgumentException("the submission has no body; send {\"plan\": ..., \"expected_banks\": ...}");
    }
    for (String key : json.fieldNames()) {
      if (!SUBMISSION_KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown key '" + WireText.quote(key) + "' in the submission; the keys are "
            + String.join(", ", SUBMISSION_KEYS.stream().sorted().toList()));
      }
    }
    JobPlan plan;
    try {
      byte[] bytes = Base64.getDecoder().decode(requireString(json, "plan"));
      plan = WireLimits.decode(JobPlan.parser(), bytes, maxBytes, "the submitted plan");
    } catch (IllegalArgumentException | ProtocolViolationException e) {
      throw new IllegalArgumentException("plan: " + e.getMessage(), e);
    }
    try {
      return new JobDefinition(JobSpecWire.fromProto(plan), requireInt(json, "expected_banks"),
          Duration.ofSeconds(requireInt(json, "start_timeout_seconds")),
          Duration.ofSeconds(requireInt(json, "stage_timeout_seconds")));
    } catch (InvalidJobSpecException e) {
      throw new IllegalArgumentException("job." + e.getMessage(), e);
    }
  }

  private static String requireString(JsonObject json, String key) {
    if (!(json.getValue(key) instanceof String s)) {
      throw new IllegalArgumentException(key + " is required (a string)");
    }
    return s;
  }

  private static int requireInt(JsonObject json, String key) {
    if (!(json.getValue(key) instanceof Number n) || n.doubleValue() != n.intValue()) {
      throw new IllegalArgumentException(key + " is required (an integer), got " + json.getValue(key));
    }
    return n.intValue();
  }

  /**
   * The job's final published model (the {@code .consort} file the banks received, its SHA-256 in
   * {@code x-consort-sha256}), or with {@code ?round=N} the model the job released in round N with
   * its provenance as JSON (the round's record, the ledger entries of the job up to that round, the
   * ledger head, the code version).
   */
  private static void model(Vertx vertx, RoutingContext ctx, JobQueue jobs, CoordinatorStore store,
                            LedgerKeeper ledger, Path jobsDir) {
    String jobId = ctx.pathParam("id");
    List<String> rounds = ctx.queryParam("round");
    Future<JsonObject> known = jobs.status(jobId);
    known.onFailure(e -> failed(ctx, e)).onSuccess(status -> {
      if (rounds.isEmpty()) {
        vertx.executeBlocking(() -> {
          Path file = jobsDir.resolve(jobId + "-model" + io.consort.scoring.PublishedModelFile.EXTENSION);
          return Files.exists(file) ? Files.readAllBytes(file) : null;
        }, false).onFailure(e -> failed(ctx, e)).onSuccess(bytes -> {
          if (bytes == null) {
            error(ctx, 409, "job '" + jobId + "' has no published model (" + status.getString("state") + ")");
            return;
          }
          ctx.response().putHeader("content-type", "application/octet-stream")
              .putHeader("x-consort-sha256", sha256(bytes))
              .putHeader("content-disposition", "attachment; filename=\"" + jobId + "-model"
                  + io.consort.scoring.PublishedModelFile.EXTENSION + "\"")
              .end(Buffer.buffer(bytes));
        });
        return;
      }
      int round;
      try {
        round = Integer.parseInt(rounds.get(0));
      } catch (NumberFormatException e) {
        error(ctx, 400, "round must be a round number, got '" + WireText.quote(rounds.get(0)) + "'");
        return;
      }
      vertx.executeBlocking(() -> roundModel(store, ledger, jobId, round), false)
          .onFailure(e -> failed(ctx, e))
          .onSuccess(body -> {
            if (body == null) {
              error(ctx, 404, "job '" + jobId + "' has no model of round " + round);
            } else {
              json(ctx, 200, body);
            }
          });
    });
  }

  private static JsonObject roundModel(CoordinatorStore store, LedgerKeeper ledger, String jobId, int round)
      throws Exception {
    var checkpoint = store.checkpoint(jobId, round);
    if (checkpoint.isEmpty() || round < 1) {
      return null;
    }
    var record = store.rounds(jobId).stream().filter(r -> r.round() == round).findFirst();
    List<SignedLedgerEntry> entries = ledger.entries();
    JsonArray jobEntries = new JsonArray();
    for (SignedLedgerEntry e : entries) {
      if (e.entry().jobId().equals(jobId) && e.entry().round() <= round) {
        jobEntries.add(new JsonObject(SignedEntryJson.toJson(e)));
      }
    }
    var plan = store.job(jobId).orElseThrow().plan();
    byte[] model = checkpoint.get().model().toByteArray();
    return new JsonObject().put("job_id", jobId).put("round", round)
        .put("model_sha256", checkpoint.get().model().getSha256())
        .put("model", Base64.getEncoder().encodeToString(model))
        .put("model_bytes_sha256", sha256(model))
        .put("plan", Base64.getEncoder().encodeToString(plan.toByteArray()))
        .put("round_record", record.map(r -> new JsonObject(r.recordJson())).orElse(null))
        .put("ledger_entries", jobEntries)
        .put("ledger_head", entries.isEmpty() ? null : entries.get(entries.size() - 1).entryHash())
        .put("code_version", ConsortVersion.current());
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void authorise(RoutingContext ctx, CallAuthenticator authenticator, RefusalLog refusals) {
    CallAuthenticator.Verdict who = authenticator.authenticate(ctx.request().connection(), ALLOWED);
    if (who.admitted()) {
      ctx.put("peer", who.identity().name());
      ctx.put("role", who.identity().role());
      ctx.next();
      return;
    }
    refusals.refused(String.valueOf(ctx.request().connection().remoteAddress()),
        ctx.request().method() + " " + WireText.quote(ctx.request().path()), who.refusal());
    error(ctx, 403, who.refusal());
  }

  private static void reply(RoutingContext ctx, int status, Future<JsonObject> body) {
    body.onSuccess(json -> json(ctx, status, json)).onFailure(e -> failed(ctx, e));
  }

  private static void failed(RoutingContext ctx, Throwable e) {
    if (e instanceof JobQueue.RefusedException r) {
      error(ctx, r.status(), r.getMessage());
    } else {
      log.error("{} {} failed: {}", ctx.request().method(), WireText.quote(ctx.request().path()), e.getMessage());
      error(ctx, 500, e.getMessage());
    }
  }

  private static void error(RoutingContext ctx, int status, String message) {
    json(ctx, status, new JsonObject().put("error", message));
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encodePrettily());
    }
  }
}
