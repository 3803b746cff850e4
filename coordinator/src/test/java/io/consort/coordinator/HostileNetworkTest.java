package io.consort.coordinator;

import static io.consort.coordinator.TestCoordinator.await;
import static io.consort.coordinator.TestCoordinator.awaitFailure;
import static io.consort.coordinator.TestCoordinator.enrolRequest;
import static io.consort.coordinator.TestCoordinator.frame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.RevocationReason;
import io.consort.certs.TlsMaterial;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolVersion;
import io.consort.transport.LogCapture;
import io.consort.protocol.v1.EnrolResponse;
import io.consort.protocol.v1.FederationGrpcClient;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskRequest;
import io.consort.protocol.v1.TaskResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcStatus;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks on the coordinator's network boundary by holders of consortium certificates and by
 * strangers, each performed over real mutual TLS and asserted to fail (issue 14, findings 1, 2 and
 * 4 to 8; docs/THREAT_MODEL.md names each test).
 */
@Tag("e2e")
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class HostileNetworkTest {
  private static final String SUBMIT = "/consort.v1.Federation/SubmitResult";
  private static final String ENROL = "/consort.v1.Federation/Enrol";

  @TempDir
  Path dir;

  private TestCoordinator coordinator;
  private LogCapture refusals;

  @BeforeEach
  void start() throws Exception {
    refusals = new LogCapture("io.consort.coordinator.refusals");
    // the job waits for three banks: until then only the transport is exercised
    coordinator = new TestCoordinator(dir, List.of("bank-1", "bank-2", "bank-3"), 3, ServerLimits.defaults());
  }

  @AfterEach
  void stop() throws Exception {
    coordinator.close();
    refusals.close();
  }

  // ------------------------------------------------------------------ 1. decompression bomb

  @Test
  void gzipBomb_isRefusedUnread_andGzipIsNoLongerAdvertised() throws Exception {
    HttpClient bank = coordinator.http(pki().bank("bank-1"));
    // 16 MiB of zeros gzip to 16 KiB, well under the 64 KiB message limit: the limit alone stops nothing
    byte[] bomb = gzip(new byte[16 << 20]);
    assertTrue(bomb.length < TestCoordinator.MAX_MESSAGE_BYTES, "the bomb fits the size limit: " + bomb.length);
    TestCoordinator.Answer answer = await(coordinator.raw(bank, SUBMIT,
        MultiMap.caseInsensitiveMultiMap().add("grpc-encoding", "gzip"), frame(1, bomb)));
    assertEquals(GrpcStatus.UNIMPLEMENTED.code, answer.code(), "refused for its encoding: " + answer);
    assertTrue(answer.grpcMessage().contains("grpc-encoding 'gzip' is not accepted"), answer.grpcMessage());
    assertEquals("identity", answer.headers().get("grpc-accept-encoding"));

    // an ordinary answer advertises no compression either
    TestCoordinator.Answer enrolled = await(coordinator.raw(bank, ENROL, MultiMap.caseInsensitiveMultiMap(),
        frame(0, enrolRequest().toByteArray())));
    assertEquals(0, enrolled.code(), enrolled.toString());
    assertEquals("identity", enrolled.headers().get("grpc-accept-encoding"));
  }

  @Test
  void anAuditorsCall_isRefusedForItsRole_beforeItsMessageIsRead() throws Exception {
    HttpClient auditor = coordinator.http(pki().auditor());
    // garbage that would fail to decode: the answer shows the role was checked first
    TestCoordinator.Answer answer = await(coordinator.raw(auditor, SUBMIT, MultiMap.caseInsensitiveMultiMap(),
        frame(0, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff})));
    assertEquals(GrpcStatus.PERMISSION_DENIED.code, answer.code(), answer.toString());
    assertTrue(answer.grpcMessage().contains("'participant' is required"), answer.grpcMessage());
  }

  // ------------------------------------------------------------------ 2. revocation and open connections

  @Test
  void aBankRevokedWhileConnected_losesItsConnection_andCanNoLongerCall() throws Exception {
    FederationGrpcClient bank2 = coordinator.client(pki().bank("bank-2"));
    assertEquals("bank-2", await(bank2.enrol(enrolRequest())).getMemberId());
    Future<Void> gone = coordinator.disconnectOf("bank-2");

    pki().revokeAndPublish("bank-2", RevocationReason.KEY_COMPROMISE);
    assertTrue(coordinator.service.reloadCrl().await(10, TimeUnit.SECONDS));

    await(gone);
    // the same client, which kept its HTTP/2 connection open before, gets nothing more
    Throwable refused = awaitFailure(bank2.enrol(enrolRequest()));
    assertFalse(refused instanceof InvalidStatusException s && s.actualStatus() == GrpcStatus.OK, refused.toString());
    Throwable pull = awaitFailure(bank2.pullTask(TaskRequest.newBuilder()
        .setProtocolVersion(ProtocolVersion.CURRENT).setWaitMillis(100).build()));
    assertTrue(pull != null);
    assertFalse(coordinator.status().getJsonObject("members").containsKey("bank-2"));
  }

  // ------------------------------------------------------------------ 4. log injection, unbounded echo

  @Test
  void aJobIdWithANewline_isRefused_andForgesNoLogLine() throws Exception {
    FederationGrpcClient bank = coordinator.client(pki().bank("bank-1"));
    await(bank.enrol(enrolRequest()));
    String forged = "job-1\n05:00:00.000 INFO  JobRunner - job 'job-1' completed";
    Throwable failure = awaitFailure(bank.submitResult(
        TaskResult.newBuilder().setHeader(Headers.of(forged, 1, Stage.TRAIN)).build()));
    InvalidStatusException status = assertInstanceOf(InvalidStatusException.class, failure);
    assertEquals(GrpcStatus.INVALID_ARGUMENT, status.actualStatus());
    String line = refusals.await(l -> l.contains("header.job_id"), "naming the bad field");
    assertTrue(line.contains("U+0020") || line.contains("U+000A"), line);
    for (String l : refusals.lines()) {
      assertFalse(l.contains("\n"), "a log line holds a line break: " + l);
      assertFalse(l.contains("completed"), "the forged text reached the log: " + l);
    }
  }

  @Test
  void aMegabyteJobId_isRefused_withoutBeingEchoedOrLogged() throws Exception {
    HttpClient bank = coordinator.http(pki().bank("bank-1"));
    await(coordinator.raw(bank, ENROL, MultiMap.caseInsensitiveMultiMap(), frame(0, enrolRequest().toByteArray())));
    String huge = "j".repeat(1 << 20);
    TestCoordinator.Answer refused = await(coordinator.raw(bank, SUBMIT, MultiMap.caseInsensitiveMultiMap(),
        frame(0, TaskResult.newBuilder().setHeader(Headers.of(huge, 1, Stage.TRAIN)).build().toByteArray())));
    assertEquals(GrpcStatus.INVALID_ARGUMENT.code, refused.code(), refused.toString());
    String said = refused.grpcMessage();
    assertTrue(said.length() < 400, "the status echoes " + said.length() + " characters");
    assertTrue(said.contains("1048576 characters; at most 128"), said);
    refusals.await(l -> l.contains("header.job_id has 1048576 characters"), "naming the bad field");
    for (String l : refusals.lines()) {
      assertTrue(l.length() < 1000, "a log line of " + l.length() + " characters");
    }
  }

  // ------------------------------------------------------------------ 5. unhandled paths

  @Test
  void aCompressedFrameWithNoEncoding_isAnsweredWithAStatus_notLeftHanging() throws Exception {
    HttpClient bank = coordinator.http(pki().bank("bank-1"));
    TestCoordinator.Answer noEncoding = await(coordinator.raw(bank, ENROL, MultiMap.caseInsensitiveMultiMap(),
        frame(1, enrolRequest().toByteArray())));
    assertEquals(GrpcStatus.UNIMPLEMENTED.code, noEncoding.code(), noEncoding.toString());
    TestCoordinator.Answer unknown = await(coordinator.raw(bank, ENROL,
        MultiMap.caseInsensitiveMultiMap().add("grpc-encoding", "br"), frame(1, enrolRequest().toByteArray())));
    assertEquals(GrpcStatus.UNIMPLEMENTED.code, unknown.code(), unknown.toString());
    TestCoordinator.Answer empty = await(coordinator.raw(bank, ENROL, MultiMap.caseInsensitiveMultiMap(),
        Buffer.buffer()));
    assertEquals(GrpcStatus.INVALID_ARGUMENT.code, empty.code(), empty.toString());
    TestCoordinator.Answer two = await(coordinator.raw(bank, ENROL, MultiMap.caseInsensitiveMultiMap(),
        frame(0, enrolRequest().toByteArray()).appendBuffer(frame(0, enrolRequest().toByteArray()))));
    assertNotEquals(-1, two.code(), "answered: " + two);
    // and the service goes on
    TestCoordinator.Answer fine = await(coordinator.raw(bank, ENROL, MultiMap.caseInsensitiveMultiMap(),
        frame(0, enrolRequest().toByteArray())));
    assertEquals(0, fine.code(), fine.toString());
  }

  @Test
  void aTaskPostedWhileAPollIsBeingCancelled_isNotLost_butGoesToTheNextPoll() throws Exception {
    HttpClient bank1 = coordinator.http(pki().bank("bank-1"));
    await(coordinator.raw(bank1, ENROL, MultiMap.caseInsensitiveMultiMap(), frame(0, enrolRequest().toByteArray())));
    // bank-1 opens a long-poll and cancels it (RST_STREAM) while the connection stays up
    HttpClientRequest poll = await(bank1.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("localhost")
        .setPort(coordinator.port()).setURI("/consort.v1.Federation/PullTask").putHeader("content-type", "application/grpc")
        .putHeader("te", "trailers")));
    poll.setChunked(true);
    await(poll.write(frame(0, TaskRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
        .setWaitMillis(20_000).build().toByteArray())));
    await(poll.reset());
    // a call on the same connection after the reset: the coordinator has handled the reset when it answers
    await(coordinator.raw(bank1, ENROL, MultiMap.caseInsensitiveMultiMap(), frame(0, enrolRequest().toByteArray())));

    // the other banks enrol: the job offers to all three, bank-1 included
    await(coordinator.client(pki().bank("bank-2")).enrol(enrolRequest()));
    await(coordinator.client(pki().bank("bank-3")).enrol(enrolRequest()));

    TestCoordinator.Answer next = await(coordinator.raw(bank1, "/consort.v1.Federation/PullTask",
        MultiMap.caseInsensitiveMultiMap(), frame(0, TaskRequest.newBuilder()
            .setProtocolVersion(ProtocolVersion.CURRENT).setWaitMillis(5_000).build().toByteArray())));
    assertEquals(0, next.code(), next.toString());
    assertTrue(Task.parseFrom(next.message()).hasJobOffer(), "the offer, not a Wait: " + Task.parseFrom(next.message()));
  }

  @Test
  void aTaskPostedAfterItsBanksConnectionClosed_staysQueued_forItsNextConnection() throws Exception {
    FederationGrpcClient bank1 = coordinator.client(pki().bank("bank-1"));
    await(bank1.enrol(enrolRequest()));
    Future<Task> poll = bank1.pullTask(TaskRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
        .setWaitMillis(20_000).build());
    // the poll is open on the coordinator once a later call on the same connection is answered
    await(bank1.enrol(enrolRequest()));
    Future<Void> gone = coordinator.disconnectOf("bank-1");
    await(coordinator.lastGrpcClient().close());
    await(gone);

    Task offer = Task.newBuilder().setHeader(Headers.of("job-1", 0, Stage.JOB_OFFER)).build();
    int[] queued = {-1};
    coordinator.onCoordinator(() -> {
      coordinator.service.members().post("bank-1", offer);
      queued[0] = coordinator.service.members().mailbox("bank-1").queued();
    });
    assertEquals(1, queued[0], "the task went to the poll of a closed connection");

    FederationGrpcClient again = coordinator.client(pki().bank("bank-1"));
    await(again.enrol(enrolRequest()));
    Task next = await(again.pullTask(TaskRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
        .setWaitMillis(5_000).build()));
    assertEquals(offer, next);
  }

  // ------------------------------------------------------------------ 6. refusals leave a trace

  @Test
  void everyRefusedHandshake_isLoggedOnce_withThePeerAndTheReason() throws Exception {
    // no certificate
    HttpClient anonymous = coordinator.vertx.createHttpClient(TestCoordinator.tls(pki().bank("bank-1"))
        .setKeyCertOptions(null));
    awaitFailure(anonymous.request(HttpMethod.POST, coordinator.port(), "localhost", ENROL).compose(r -> r.send()));
    refusals.await(l -> l.contains("TLS handshake from 127.0.0.1:") && l.contains("certificate"),
        "for the handshake without a certificate");

    // a certificate of another CA with a member's exact name
    DemoPki foreign = DemoPki.createForeign(dir.resolve("foreign"), List.of("bank-1"));
    TlsMaterial stranger = foreign.bank("bank-1");
    TlsMaterial withOurCa = new TlsMaterial(stranger.keyFile(), stranger.certificateFile(), stranger.chainFile(),
        pki().coordinator().caFile(), stranger.crlFile());
    int before = refusals.lines().size();
    awaitFailure(coordinator.client(withOurCa).enrol(enrolRequest()));
    refusals.await(l -> refusals.lines().indexOf(l) >= before && l.contains("TLS handshake from 127.0.0.1:"),
        "for the foreign certificate");

    // TLS 1.2
    int beforeTls12 = refusals.lines().size();
    awaitFailure(coordinator.client(TestCoordinator.tls(pki().bank("bank-1"))
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.2"))).enrol(enrolRequest()));
    refusals.await(l -> refusals.lines().indexOf(l) >= beforeTls12 && l.contains("TLS handshake from 127.0.0.1:")
        && l.contains("TLSv1.2"), "for the TLS 1.2 client");
  }

  @Test
  void malformedAndOversizeMessages_areLogged_withThePeerAndTheReason() throws Exception {
    HttpClient bank = coordinator.http(pki().bank("bank-1"));
    await(coordinator.raw(bank, SUBMIT, MultiMap.caseInsensitiveMultiMap(), frame(0, new byte[] {8, -1})));
    refusals.await(l -> l.contains("bank-1 (127.0.0.1:") && l.contains("not a valid message"), "for the malformed one");
    TestCoordinator.Answer big = await(coordinator.raw(bank, SUBMIT, MultiMap.caseInsensitiveMultiMap(),
        Buffer.buffer().appendByte((byte) 0).appendInt(TestCoordinator.MAX_MESSAGE_BYTES + 1)));
    assertEquals(GrpcStatus.RESOURCE_EXHAUSTED.code, big.code(), big.toString());
    refusals.await(l -> l.contains("bank-1 (127.0.0.1:") && l.contains("exceeds the limit"), "for the oversize one");
  }

  // ------------------------------------------------------------------ 7. the same certificate twice

  @Test
  void aSecondConnectionWithABanksCertificate_isRefused_andTheHoldersPollIsUntouched() throws Exception {
    FederationGrpcClient holder = coordinator.client(pki().bank("bank-1"));
    await(holder.enrol(enrolRequest()));
    Future<Task> holdersPoll = holder.pullTask(TaskRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
        .setWaitMillis(20_000).build());

    FederationGrpcClient impostor = coordinator.client(pki().bank("bank-1"));
    Throwable enrol = awaitFailure(impostor.enrol(enrolRequest()));
    assertEquals(GrpcStatus.ALREADY_EXISTS, assertInstanceOf(InvalidStatusException.class, enrol).actualStatus());
    for (int i = 0; i < 5; i++) {
      Throwable pull = awaitFailure(impostor.pullTask(TaskRequest.newBuilder()
          .setProtocolVersion(ProtocolVersion.CURRENT).setWaitMillis(0).build()));
      assertEquals(GrpcStatus.ALREADY_EXISTS, assertInstanceOf(InvalidStatusException.class, pull).actualStatus());
    }
    // the impostor's polls did not answer the holder's: no busy loop between them
    assertFalse(holdersPoll.isComplete(), "the holder's poll was answered: " + holdersPoll);
    refusals.await(l -> l.contains("already has a live session"), "naming the second session");
    assertEquals("bank-1", await(holder.enrol(enrolRequest())).getMemberId());
  }

  @Test
  void aBankWhoseConnectionClosed_getsItsSessionBack_onANewOne() throws Exception {
    FederationGrpcClient first = coordinator.client(pki().bank("bank-1"));
    await(first.enrol(enrolRequest()));
    Future<Void> gone = coordinator.disconnectOf("bank-1");
    await(coordinator.lastGrpcClient().close());
    await(gone);
    EnrolResponse again = await(coordinator.client(pki().bank("bank-1")).enrol(enrolRequest()));
    assertEquals("bank-1", again.getMemberId());
  }

  // ------------------------------------------------------------------ 8. small leaks

  @Test
  void aBankThatWasNotAsked_learnsNothingOfTheOpenStage() throws Exception {
    // three banks enrol: the job opens its offer stage and asks them; a fourth (here: an
    // operator-enrolled bank-4) is not asked
    DemoPki pki = pki();
    TlsMaterial bank4 = pki.enrol("bank-4", io.consort.identity.Role.PARTICIPANT, dir.resolve("bank-4"),
        List.of(), List.of());
    for (String b : List.of("bank-1", "bank-2", "bank-3")) {
      await(coordinator.client(pki.bank(b)).enrol(enrolRequest()));
    }
    HttpClient outsider = coordinator.http(bank4);
    await(coordinator.raw(outsider, ENROL, MultiMap.caseInsensitiveMultiMap(), frame(0, enrolRequest().toByteArray())));
    String status = coordinator.status().getJsonObject("open_stage").encode();
    assertTrue(status.contains("JOB_OFFER"), status);
    for (TaskResult guess : List.of(
        TaskResult.newBuilder().setHeader(Headers.of("job-1", 3, Stage.TRAIN)).build(),
        TaskResult.newBuilder().setHeader(Headers.of("job-1", 0, Stage.JOB_OFFER)).build(),
        TaskResult.newBuilder().setHeader(Headers.of("other-job", 0, Stage.JOB_OFFER)).build())) {
      TestCoordinator.Answer refused = await(coordinator.raw(outsider, SUBMIT, MultiMap.caseInsensitiveMultiMap(),
          frame(0, guess.toByteArray())));
      assertEquals(GrpcStatus.FAILED_PRECONDITION.code, refused.code(), refused.toString());
      String said = refused.grpcMessage();
      assertFalse(said.contains("JOB_OFFER") && guess.getHeader().getStage() != Stage.JOB_OFFER, said);
      assertFalse(said.contains("round 0") || said.contains("unknown job") || said.contains("expected"), said);
    }
  }

  @Test
  void aBankThatLeft_showsAsDisconnected() throws Exception {
    FederationGrpcClient bank = coordinator.client(pki().bank("bank-1"));
    await(bank.enrol(enrolRequest()));
    assertTrue(coordinator.status().getJsonObject("members").getJsonObject("bank-1").getBoolean("connected"));
    Future<Void> gone = coordinator.disconnectOf("bank-1");
    await(coordinator.lastGrpcClient().close());
    await(gone);
    assertFalse(coordinator.status().getJsonObject("members").getJsonObject("bank-1").getBoolean("connected"));
  }

  @Test
  void aRevokedBank_noLongerCountsTowardsTheExpectedBanks() throws Exception {
    await(coordinator.client(pki().bank("bank-1")).enrol(enrolRequest()));
    await(coordinator.client(pki().bank("bank-2")).enrol(enrolRequest()));
    pki().revokeAndPublish("bank-2", RevocationReason.KEY_COMPROMISE);
    assertTrue(coordinator.service.reloadCrl().await(10, TimeUnit.SECONDS));
    await(coordinator.client(pki().bank("bank-3")).enrol(enrolRequest()));
    JsonObject status = coordinator.status();
    // two members, not three: the job still waits instead of offering to a revoked bank
    assertEquals("waiting", status.getString("state"), status.encode());
    assertEquals(Set.of("bank-1", "bank-3"), status.getJsonObject("members").fieldNames());
  }

  // ------------------------------------------------------------------ helpers

  private DemoPki pki() {
    return coordinator.pki;
  }

  private static byte[] gzip(byte[] data) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(data);
    }
    return out.toByteArray();
  }
}
