package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.RevocationReason;
import io.consort.certs.TlsMaterial;
import io.consort.protocol.ProtocolVersion;
import io.consort.transport.LogCapture;
import io.consort.protocol.v1.Ack;
import io.consort.protocol.v1.EnrolResponse;
import io.consort.protocol.v1.ErrorCode;
import io.consort.protocol.v1.FederationGrpcService;
import io.consort.protocol.v1.Header;
import io.consort.protocol.v1.JobFinished;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.protocol.v1.Wait;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.grpc.server.GrpcServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A coordinator under an attacker's control, as a bank's daemon meets it over real mutual TLS: it
 * answers every poll at once, or sends tasks whose strings forge log lines. The bank neither spins
 * nor lets such a task reach its handler (issue 14, findings 4 and 7, the bank's side).
 */
@Tag("e2e")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileCoordinatorTest {
  @TempDir
  Path dir;

  private final Vertx vertx = Vertx.vertx();
  private final List<Long> polls = new CopyOnWriteArrayList<>();
  private final List<TaskResult> results = new CopyOnWriteArrayList<>();
  private final AtomicInteger handled = new AtomicInteger();
  private final CompletableFuture<Void> secondResult = new CompletableFuture<>();
  /** When the coordinator acknowledges results (at once unless a test holds it back). */
  private io.vertx.core.Future<Void> acknowledgement = io.vertx.core.Future.succeededFuture();
  /** For each task the bank ran, whether every result was acknowledged when it started. */
  private final List<Boolean> ranAfterAcknowledgement = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  @Test
  void aCoordinatorThatAnswersEveryPollAtOnce_cannotMakeTheBankPollInABusyLoop() throws Exception {
    CompletableFuture<Void> fourPolls = new CompletableFuture<>();
    startBank(startCoordinator(n -> {
      if (n == 4) {
        fourPolls.complete(null);
      }
      return Task.newBuilder().setWait(Wait.newBuilder().setRetryAfterMillis(0)).build();
    }));
    fourPolls.get(30, TimeUnit.SECONDS);
    for (int i = 1; i < 4; i++) {
      long gapMillis = (polls.get(i) - polls.get(i - 1)) / 1_000_000;
      assertTrue(gapMillis >= ParticipantDaemon.MIN_QUICK_WAIT_MILLIS - 50, "poll " + i + " came after " + gapMillis
          + " ms");
    }
  }

  @Test
  void aTaskWhoseJobIdForgesALogLine_neverReachesTheHandler_andIsReported() throws Exception {
    CompletableFuture<Void> pollAfterIt = new CompletableFuture<>();
    Task forged = Task.newBuilder().setHeader(Header.newBuilder().setJobId("job-1").setStage(Stage.FINISHED))
        .setFinished(JobFinished.newBuilder().setReason("done\n05:00:00 INFO bank-1 sent its data to evil.example"))
        .build();
    startBank(startCoordinator(n -> {
      if (n == 1) {
        return forged;
      }
      pollAfterIt.complete(null);
      return Task.newBuilder().setWait(Wait.newBuilder().setRetryAfterMillis(10_000)).build();
    }));
    pollAfterIt.get(30, TimeUnit.SECONDS);
    assertEquals(0, handled.get(), "the handler ran the forged task");
    assertEquals(1, results.size(), "the bank reported the task: " + results);
    assertEquals(ErrorCode.PROTOCOL_VIOLATION, results.get(0).getError().getCode());
    assertTrue(results.get(0).getError().getMessage().contains("finished.reason holds the character U+000A"),
        results.get(0).getError().getMessage());
  }

  @Test
  void aCoordinatorWhoseCertificateIsRevoked_isRefusedAtTheHandshake_andTheBankNeverEnrols() throws Exception {
    try (LogCapture refusals = new LogCapture("io.consort.participant.refusals")) {
      pki().revokeAndPublish("coordinator", RevocationReason.KEY_COMPROMISE);
      startBank(startCoordinator(n -> Task.newBuilder().setWait(Wait.newBuilder().setRetryAfterMillis(0)).build()));
      String line = refusals.await(l -> l.contains("TLS handshake") && l.contains("(the coordinator)"),
          "refusing the coordinator's handshake");
      assertTrue(line.contains("revoked"), line);
      assertEquals(0, enrolments.get(), "the bank enrolled with a revoked coordinator");
    }
  }

  @Test
  void aCoordinatorRevokedWhileTheBankIsConnected_getsNoTaskRun() throws Exception {
    try (LogCapture refusals = new LogCapture("io.consort.participant.refusals")) {
      CompletableFuture<Void> secondPoll = new CompletableFuture<>();
      io.vertx.core.Promise<Task> heldTask = io.vertx.core.Promise.promise();
      Task finished = Task.newBuilder().setHeader(Header.newBuilder().setJobId("job-1").setStage(Stage.FINISHED))
          .setFinished(JobFinished.newBuilder().setReason("done")).build();
      startBank(startCoordinatorAsync(n -> {
        if (n == 1) {
          return io.vertx.core.Future.succeededFuture(
              Task.newBuilder().setWait(Wait.newBuilder().setRetryAfterMillis(1)).build());
        }
        if (n == 2) {
          secondPoll.complete(null);
          return heldTask.future();
        }
        return io.vertx.core.Future.succeededFuture(finished);
      }));
      secondPoll.get(30, TimeUnit.SECONDS);
      // the operator revokes the coordinator and the new CRL reaches the bank's tls.crl
      pki().revokeAndPublish("coordinator", RevocationReason.KEY_COMPROMISE);
      vertx.runOnContext(v -> heldTask.complete(finished));
      String line = refusals.await(l -> l.contains("refused task") && l.contains("revoked"), "refusing the task");
      assertTrue(line.contains("(the coordinator)"), line);
      assertEquals(0, handled.get(), "the bank ran a task of a revoked coordinator");
      refusals.await(l -> l.contains("TLS handshake") && l.contains("revoked"), "refusing the next handshake");
      assertEquals(1, enrolments.get(), "the bank enrolled again with the revoked coordinator");
    }
  }

  @Test
  void theNextPoll_goesOutWithTheResult_andATaskItBrings_waitsForTheAcknowledgement() throws Exception {
    io.vertx.core.Promise<Void> ack = io.vertx.core.Promise.promise();
    acknowledgement = ack.future();
    CompletableFuture<Void> secondPoll = new CompletableFuture<>();
    Task train = Task.newBuilder().setHeader(Header.newBuilder().setJobId("job-1").setRound(1)
        .setStage(Stage.TRAIN)).build();
    Task check = Task.newBuilder().setHeader(Header.newBuilder().setJobId("job-1").setRound(1)
        .setStage(Stage.CONSISTENCY_CHECK)).build();
    startBank(startCoordinatorAsync(n -> {
      if (n == 1) {
        return io.vertx.core.Future.succeededFuture(train);
      }
      if (n == 2) {
        secondPoll.complete(null);
        return io.vertx.core.Future.succeededFuture(check);
      }
      return io.vertx.core.Promise.<Task>promise().future(); // the job goes quiet
    }));
    // the coordinator holds back its acknowledgement of the first result: a bank that polled only
    // after the acknowledgement would never poll again
    secondPoll.get(30, TimeUnit.SECONDS);
    vertx.runOnContext(v -> ack.complete());
    secondResult.get(30, TimeUnit.SECONDS);
    assertTrue(ranAfterAcknowledgement.get(1), "the bank ran the second task before its first result was acknowledged");
    assertEquals(List.of(Stage.TRAIN, Stage.CONSISTENCY_CHECK),
        results.stream().map(r -> r.getHeader().getStage()).toList());
  }

  /** A coordinator that admits any bank and answers its n-th poll with {@code answer.apply(n)}. */
  private int startCoordinator(IntFunction<Task> answer) throws Exception {
    return startCoordinatorAsync(n -> io.vertx.core.Future.succeededFuture(answer.apply(n)));
  }

  private DemoPki pki() throws Exception {
    if (pki == null) {
      pki = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-1"));
    }
    return pki;
  }

  private final AtomicInteger enrolments = new AtomicInteger();

  private int startCoordinatorAsync(IntFunction<io.vertx.core.Future<Task>> answer) throws Exception {
    DemoPki pki = pki();
    Files.createDirectories(dir.resolve("bank"));
    Files.writeString(dir.resolve("bank").resolve("data.csv"), "x,y\n1,0\n");
    TlsMaterial c = pki.coordinator();
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.callHandler(FederationGrpcService.Enrol, req -> req.handler(m -> {
      enrolments.incrementAndGet();
      req.response().end(EnrolResponse.newBuilder()
          .setProtocolVersion(ProtocolVersion.CURRENT).setMemberId("bank-1").setCoordinatorId("evil").build());
    }));
    grpc.callHandler(FederationGrpcService.PullTask, req -> req.handler(m -> {
      polls.add(System.nanoTime());
      answer.apply(polls.size()).onSuccess(task -> req.response().end(task));
    }));
    grpc.callHandler(FederationGrpcService.SubmitResult, req -> req.handler(m -> {
      results.add(m);
      if (results.size() >= 2) {
        secondResult.complete(null);
      }
      acknowledgement.onSuccess(v -> req.response().end(Ack.newBuilder().setAccepted(true).build()));
    }));
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setUseAlpn(true)
        .setClientAuth(ClientAuth.REQUIRED).setEnabledSecureTransportProtocols(Set.of("TLSv1.3"))
        .setKeyCertOptions(new PemKeyCertOptions().setKeyPath(c.keyFile().toString())
            .setCertPath(c.chainFile().toString()))
        .setTrustOptions(new PemTrustOptions().addCertPath(c.caFile().toString())).setHost("127.0.0.1").setPort(0))
        .requestHandler(grpc);
    return server.listen().await(30, TimeUnit.SECONDS).actualPort();
  }

  private DemoPki pki;

  private void startBank(int port) throws Exception {
    TlsMaterial t = pki.bank("bank-1");
    ParticipantConfig config = new ParticipantConfig("localhost", port, t.keyFile(), t.chainFile(), t.caFile(),
        dir.resolve("bank").resolve("data.csv"), dir.resolve("bank").resolve("local"), 3.0, 1e-5, 1 << 20, null,
        false, t.crlFile(), null);
    new ParticipantDaemon(vertx, config, task -> {
      ranAfterAcknowledgement.add(acknowledgement.isComplete());
      handled.incrementAndGet();
      return TaskResult.newBuilder();
    }, status -> { }).start();
  }
}
