package io.consort.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.PemFiles;
import io.consort.certs.TlsMaterial;
import io.consort.coordinator.job.JobQueue;
import io.consort.coordinator.job.LedgerKeeper;
import io.consort.coordinator.job.Workers;
import io.consort.coordinator.store.CoordinatorStore;
import io.consort.coordinator.transport.MemberRegistry;
import io.consort.privacy.ledger.LedgerSignature;
import io.consort.privacy.ledger.LedgerSigning;
import io.consort.privacy.ledger.SignedLedgerEntry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's ledger check: it runs only while a client watches, and its status names what it
 * verified. The feed runs on a real event loop with a real ledger and store; a client reads the event
 * stream over loopback HTTP (the operator API's TLS is not what is tested here).
 */
class DashboardFeedTest {
  private static final String MODEL_SHA256 = "ab".repeat(32);

  @TempDir
  Path dir;

  private final Vertx vertx = Vertx.vertx();
  private final Context loop = vertx.getOrCreateContext();
  private CoordinatorStore store;
  private LedgerKeeper ledger;
  private DashboardFeed feed;
  private HttpServer server;
  private X509Certificate bankCertificate;

  @BeforeEach
  void start() throws Exception {
    DemoPki pki = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-a"));
    TlsMaterial coordinator = pki.coordinator();
    PrivateKey key = PemFiles.readPrivateKey(coordinator.keyFile());
    X509Certificate certificate = PemFiles.readCertificates(coordinator.chainFile()).get(0);
    bankCertificate = PemFiles.readCertificates(pki.bank("bank-a").chainFile()).get(0);
    store = CoordinatorStore.open(dir.resolve("data"));
    ledger = new LedgerKeeper(store, key, certificate);
    X509Certificate ca = PemFiles.readCertificate(coordinator.caFile());
    feed = onLoop(() -> {
      DashboardFeed f = new DashboardFeed(vertx, new JobQueue(store, Workers.of(vertx), d -> {
        throw new AssertionError("no job runs here");
      }), new MemberRegistry(vertx), ledger, ca);
      f.start();
      return f;
    });
    Router router = Router.router(vertx);
    feed.routes(router);
    server = onLoop(() -> vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"))
        .await(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(30, TimeUnit.SECONDS);
    store.close();
  }

  @Test
  void noLedgerCheckRuns_whenNobodyWatches() throws Exception {
    for (int round = 1; round <= 3; round++) {
      appendEntry(round);
      onLoop(() -> {
        feed.roundRecorded();
        return null;
      });
    }

    assertEquals(0, (int) onLoop(feed::checksStarted));
    assertEquals("not checked yet", onLoop(feed::snapshot).getJsonObject("ledger").getString("state"));
  }

  @Test
  void subscriberSeesTheLedgerVerified_withEveryEntryCounted() throws Exception {
    for (int round = 1; round <= 3; round++) {
      appendEntry(round);
      onLoop(() -> {
        feed.roundRecorded();
        return null;
      });
    }

    BlockingQueue<JsonObject> events = subscribe();
    JsonObject ledgerStatus = awaitLedger(events, l -> "verified".equals(l.getString("state")));

    assertEquals(3, ledgerStatus.getInteger("entries"));
    assertTrue(ledgerStatus.getBoolean("head_signed"));
    assertEquals(1, (int) onLoop(feed::checksStarted));

    // while subscribed, each recorded round is checked again and the count follows the ledger
    appendEntry(4);
    onLoop(() -> {
      feed.roundRecorded();
      return null;
    });
    JsonObject after = awaitLedger(events, l -> "verified".equals(l.getString("state")) && l.getInteger("entries") == 4);
    assertEquals(4, after.getInteger("entries"));
  }

  @Test
  void statusDoesNotClaimVerified_forAnEntryCommittedAfterTheCheck() throws Exception {
    appendEntry(1);
    awaitLedger(subscribe(), l -> "verified".equals(l.getString("state")));

    // committed, but no round recorded (the dashboard was not told): the check saw one entry, not two
    appendEntry(2);
    JsonObject ledgerStatus = onLoop(feed::snapshot).getJsonObject("ledger");

    assertEquals("not checked since the latest round", ledgerStatus.getString("state"));
    assertEquals(1, ledgerStatus.getJsonObject("previous_check").getInteger("entries"));
    assertFalse(ledgerStatus.containsKey("entries"));
  }

  @Test
  void subscriberSeesFailed_whenTheLedgerHoldsAForgedCountersignature() throws Exception {
    appendEntry(1);
    // round 2's entry carries bank-a's countersignature, but its bytes were not made with bank-a's key
    SignedLedgerEntry signed = ledger.prepare("job-1", 2, List.of("bank-a"), 1e-5, List.of(), MODEL_SHA256);
    LedgerSignature forged = new LedgerSignature("bank-a", "SHA256withECDSA",
        LedgerSigning.fingerprint(bankCertificate), new byte[64]);
    ledger.commit(signed, List.of(forged), List.of(bankCertificate));
    onLoop(() -> {
      feed.roundRecorded();
      return null;
    });

    JsonObject ledgerStatus = awaitLedger(subscribe(), l -> !"checking".equals(l.getString("state"))
        && !"not checked yet".equals(l.getString("state")));

    assertEquals("FAILED", ledgerStatus.getString("state"));
    assertTrue(ledgerStatus.getString("failure").contains("entry 2"), ledgerStatus.encode());
    assertFalse(ledgerStatus.containsKey("previous_check"));
  }

  private void appendEntry(int round) throws Exception {
    ledger.commit(ledger.prepare("job-1", round, List.of(), 1e-5, List.of(), MODEL_SHA256), List.of(), List.of());
  }

  /** Opens the event stream; each snapshot it sends lands in the queue. */
  private BlockingQueue<JsonObject> subscribe() throws Exception {
    BlockingQueue<JsonObject> events = new LinkedBlockingQueue<>();
    HttpClient client = vertx.createHttpClient();
    StringBuilder pending = new StringBuilder();
    client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/api/v1/events")
        .compose(request -> request.send())
        .onSuccess(response -> response.handler((Buffer chunk) -> {
          pending.append(chunk.toString());
          int end;
          while ((end = pending.indexOf("\n\n")) >= 0) {
            String event = pending.substring(0, end);
            pending.delete(0, end + 2);
            for (String line : event.split("\n")) {
              if (line.startsWith("data: ")) {
                events.add(new JsonObject(line.substring("data: ".length())));
              }
            }
          }
        }))
        .await(30, TimeUnit.SECONDS);
    return events;
  }

  private static JsonObject awaitLedger(BlockingQueue<JsonObject> events, Predicate<JsonObject> wanted)
      throws InterruptedException {
    while (true) {
      JsonObject snapshot = events.poll(60, TimeUnit.SECONDS);
      if (snapshot == null) {
        throw new AssertionError("no snapshot with the expected ledger status arrived within 60 s");
      }
      JsonObject ledgerStatus = snapshot.getJsonObject("ledger");
      if (wanted.test(ledgerStatus)) {
        return ledgerStatus;
      }
    }
  }

  private <T> T onLoop(Supplier<T> work) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    loop.runOnContext(v -> {
      try {
        result.complete(work.get());
      } catch (RuntimeException | AssertionError e) {
        result.completeExceptionally(e);
      }
    });
    return result.get(30, TimeUnit.SECONDS);
  }
}
