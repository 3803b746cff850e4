package io.consort.coordinator.api;

import io.consort.coordinator.job.JobQueue;
import io.consort.coordinator.job.LedgerKeeper;
import io.consort.coordinator.transport.MemberRegistry;
import io.consort.privacy.ledger.LedgerVerifier;
import io.consort.privacy.ledger.VerificationResult;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live dashboard: static files (no build step; the charts are hand-written SVG) under
 * {@code /dashboard/}, and a server-sent event stream, {@code GET /api/v1/events}, that sends a
 * snapshot (jobs, the running or last job's status, banks online, the ledger's verification) when
 * anything changes and every few seconds. Served by the operator API, so the same mutual TLS and
 * roles apply: an operator's or auditor's certificate in the browser. Event loop only, except the
 * ledger check, which runs on a worker.
 *
 * <p>The ledger is checked only while someone watches: when a client subscribes (if the ledger holds an
 * entry committed since the last check began) and after each round while a client is subscribed. Exporting and
 * verifying every signature grows with the ledger, so checking after every round with nobody watching
 * made a job's coordinator work quadratic in its rounds. The status states what the last check
 * verified (its entry count) only while the ledger holds no entry committed after that check began;
 * otherwise it says the ledger is being checked or was not checked since.
 */
public final class DashboardFeed {
  private static final Logger log = LoggerFactory.getLogger(DashboardFeed.class);
  private static final long HEARTBEAT_MILLIS = 5_000;
  private static final long COALESCE_MILLIS = 200;

  private final Vertx vertx;
  private final JobQueue jobs;
  private final MemberRegistry members;
  private final LedgerKeeper ledger;
  private final X509Certificate ca;
  private final Set<HttpServerResponse> clients = new LinkedHashSet<>();
  /** The last check's result, or null before the first. */
  private JsonObject ledgerStatus;
  /** The ledger's entry count when the check of {@link #ledgerStatus} exported it (a lower bound). */
  private long checkedEntries = -1;
  private long pending = -1;
  private long heartbeat = -1;
  private boolean checking;
  private int checksStarted;

  public DashboardFeed(Vertx vertx, JobQueue jobs, MemberRegistry members, LedgerKeeper ledger, X509Certificate ca) {
    this.vertx = vertx;
    this.jobs = jobs;
    this.members = members;
    this.ledger = ledger;
    this.ca = ca;
  }

  /** Adds the dashboard's routes to the operator API's router (after its certificate check). */
  public void routes(Router router) {
    router.get("/").handler(ctx -> ctx.redirect("/dashboard/"));
    router.get("/api/v1/events").handler(this::subscribe);
    router.get("/dashboard/*").handler(StaticHandler.create("dashboard").setCachingEnabled(false)
        .setDefaultContentEncoding("UTF-8"));
  }

  /** Starts listening for changes; call once on the event loop. */
  public void start() {
    jobs.listen((id, state) -> changed());
    members.onEnrolment(m -> changed());
    members.onDisconnect(m -> changed());
    heartbeat = vertx.setPeriodic(HEARTBEAT_MILLIS, t -> {
      if (!clients.isEmpty()) {
        broadcast();
      }
    });
  }

  public void stop() {
    if (heartbeat >= 0) {
      vertx.cancelTimer(heartbeat);
    }
    clients.forEach(r -> r.end());
    clients.clear();
  }

  /** A round was recorded: its release is in the ledger, which is checked again if someone watches. */
  public void roundRecorded() {
    if (!clients.isEmpty()) {
      checkLedger();
    }
    changed();
  }

  /** How many ledger checks have started (for tests: none start while nobody watches). */
  int checksStarted() {
    return checksStarted;
  }

  /** Something changed: one snapshot goes out shortly (changes close together are sent once). */
  public void changed() {
    if (pending < 0) {
      pending = vertx.setTimer(COALESCE_MILLIS, t -> {
        pending = -1;
        broadcast();
      });
    }
  }

  private void subscribe(RoutingContext ctx) {
    HttpServerResponse response = ctx.response().setChunked(true)
        .putHeader("content-type", "text/event-stream").putHeader("cache-control", "no-store");
    clients.add(response);
    response.closeHandler(v -> clients.remove(response));
    response.exceptionHandler(e -> clients.remove(response));
    // a reconnecting browser waits this long (EventSource's retry field)
    response.write("retry: 2000\n\n");
    send(response, snapshot());
    if (!current()) {
      checkLedger();
    }
  }

  private void broadcast() {
    if (clients.isEmpty()) {
      return;
    }
    String event = event(snapshot());
    for (HttpServerResponse r : Set.copyOf(clients)) {
      r.write(event).onFailure(e -> clients.remove(r));
    }
  }

  private static void send(HttpServerResponse r, JsonObject snapshot) {
    r.write(event(snapshot));
  }

  private static String event(JsonObject snapshot) {
    return "event: snapshot\ndata: " + snapshot.encode() + "\n\n";
  }

  /** What the page shows. The rounds' score histograms stay out (the chart needs AUC and loss). */
  JsonObject snapshot() {
    JsonObject out = new JsonObject().put("at", Instant.now().toString()).put("jobs", jobs.list());
    jobs.current().ifPresent(runner -> {
      JsonObject status = runner.status();
      for (Object r : status.getJsonArray("rounds")) {
        ((JsonObject) r).remove("histogram");
        ((JsonObject) r).remove("importance");
      }
      out.put("current", status);
    });
    JsonArray banks = new JsonArray();
    for (String m : members.members().stream().sorted().toList()) {
      banks.add(new JsonObject().put("bank", m).put("connected", members.isConnected(m)));
    }
    return out.put("banks", banks).put("ledger", ledgerStatus());
  }

  /** The last check's result while it is current; otherwise only that a check runs or has not run since. */
  private JsonObject ledgerStatus() {
    if (ledgerStatus != null && current()) {
      return ledgerStatus.copy();
    }
    JsonObject status = new JsonObject().put("state", checking ? "checking" : ledgerStatus == null
        ? "not checked yet" : "not checked since the latest round");
    if (ledgerStatus != null) {
      status.put("previous_check", ledgerStatus.copy());
    }
    return status;
  }

  /** Whether the last check saw every entry the ledger holds now. */
  private boolean current() {
    return checkedEntries == ledger.committedEntries();
  }

  /**
   * Verifies the ledger export against the consortium CA alone, as an auditor would, on a worker. A
   * round recorded while a check runs is checked by another one after it, if someone still watches.
   */
  private void checkLedger() {
    if (checking) {
      return;
    }
    checking = true;
    checksStarted++;
    long entries = ledger.committedEntries();
    vertx.executeBlocking(() -> {
      Path tmp = Files.createTempFile("consort-ledger", ".json");
      try {
        ledger.export(tmp);
        return LedgerVerifier.verify(tmp, ca);
      } finally {
        Files.deleteIfExists(tmp);
      }
    }, false).onComplete(ar -> {
      checking = false;
      checkedEntries = entries;
      if (ar.succeeded()) {
        VerificationResult v = ar.result();
        ledgerStatus = new JsonObject().put("state", v.valid() ? "verified" : "FAILED").put("entries", v.entryCount())
            .put("head_signed", v.headSigned()).put("checked_at", Instant.now().toString());
        v.failure().ifPresent(f -> ledgerStatus.put("failure", f));
      } else {
        log.error("the dashboard's ledger check failed: {}", ar.cause().getMessage());
        ledgerStatus = new JsonObject().put("state", "not checked: " + ar.cause().getMessage())
            .put("checked_at", Instant.now().toString());
      }
      if (!current() && !clients.isEmpty()) {
        checkLedger();
      }
      changed();
    });
  }
}
