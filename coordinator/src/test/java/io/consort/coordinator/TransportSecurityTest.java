package io.consort.coordinator;

import static io.consort.coordinator.TestCoordinator.await;
import static io.consort.coordinator.TestCoordinator.awaitFailure;
import static io.consort.coordinator.TestCoordinator.enrolRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.RevocationReason;
import io.consort.certs.TlsMaterial;
import io.consort.coordinator.job.JobDefinition;
import io.consort.coordinator.job.ModelOps;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolVersion;
import io.consort.protocol.v1.EnrolRequest;
import io.consort.protocol.v1.EnrolResponse;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.FeatureEncoding;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.FederationGrpcClient;
import io.consort.model.data.DataSchema;
import io.consort.spec.JobSpec;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ModelUpdate;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.TaskResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's network boundary over real mutual TLS on loopback: who gets in, who is refused
 * at the handshake, and that a refused or malformed call leaves the service running.
 */
@Tag("e2e")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TransportSecurityTest {
  private static final int MAX_MESSAGE_BYTES = 64 * 1024;

  @TempDir
  Path dir;

  private Vertx vertx;
  private DemoPki pki;
  private CoordinatorService service;
  private final List<GrpcClient> clients = new ArrayList<>();

  @BeforeEach
  void startCoordinator() throws Exception {
    vertx = Vertx.vertx();
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-1", "bank-2"));
    TlsMaterial c = pki.coordinator();
    JobSpec plan = JobSpec.builder().id("job-1").rounds(1).minBanks(1)
        .schema(new DataSchema(List.of("x"), List.of(), "y", "1")).build();
    // a job that waits for more banks than will come, so only transport behaviour is exercised
    JobDefinition job = new JobDefinition(plan, 5, Duration.ofMinutes(10), Duration.ofSeconds(30));
    CoordinatorConfig config = new CoordinatorConfig("127.0.0.1", 0, c.keyFile(), c.chainFile(), c.caFile(),
        c.crlFile(), dir.resolve("data"), MAX_MESSAGE_BYTES, Duration.ofSeconds(1), false, job, 0);
    service = new CoordinatorService(config, new TestCoordinator.UnusedModelOps());
    vertx.deployVerticle(service).await(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    for (GrpcClient client : clients) {
      client.close();
    }
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  @Test
  void boundPorts_arePublishedWhileListening_andWithdrawnOnStop() throws Exception {
    Path data = dir.resolve("data");
    assertEquals(java.util.Optional.of(new BoundPorts(service.actualPort(), service.apiPort())), BoundPorts.read(data));
    await(vertx.undeploy(service.deploymentID()));
    assertEquals(java.util.Optional.empty(), BoundPorts.read(data));
  }

  @Test
  void enrol_admitsParticipant_withIdentityFromItsCertificate() throws Exception {
    EnrolResponse response = await(client(pki.bank("bank-1")).enrol(enrolRequest()));
    assertEquals("bank-1", response.getMemberId());
    assertEquals(ProtocolVersion.CURRENT, response.getProtocolVersion());
  }

  @Test
  void handshake_refusesParticipant_whoseCertificateComesFromAnotherCa() throws Exception {
    DemoPki foreign = DemoPki.createForeign(dir.resolve("foreign"), List.of("bank-1"));
    TlsMaterial stranger = foreign.bank("bank-1");
    // the stranger trusts our CA (so it would accept the server), but the server must refuse it
    TlsMaterial withOurCa = new TlsMaterial(stranger.keyFile(), stranger.certificateFile(), stranger.chainFile(),
        pki.coordinator().caFile(), stranger.crlFile());
    Throwable failure = awaitFailure(client(withOurCa).enrol(enrolRequest()));
    assertTrue(!(failure instanceof InvalidStatusException), "refused at TLS, not by a gRPC status: " + failure);
    // and the service goes on for consortium members
    assertEquals("bank-1", await(client(pki.bank("bank-1")).enrol(enrolRequest())).getMemberId());
  }

  @Test
  void handshake_refusesParticipant_afterItsCertificateIsRevoked() throws Exception {
    assertEquals("bank-2", await(client(pki.bank("bank-2")).enrol(enrolRequest())).getMemberId());
    pki.revokeAndPublish("bank-2", RevocationReason.KEY_COMPROMISE);
    assertTrue(service.reloadCrl().await(10, TimeUnit.SECONDS));
    Throwable failure = awaitFailure(client(pki.bank("bank-2")).enrol(enrolRequest()));
    assertTrue(!(failure instanceof InvalidStatusException), "refused at TLS, not by a gRPC status: " + failure);
    assertEquals("bank-1", await(client(pki.bank("bank-1")).enrol(enrolRequest())).getMemberId());
  }

  @Test
  void call_refused_whenCertificateHasAnotherRole() throws Exception {
    Throwable failure = awaitFailure(client(pki.operator()).enrol(enrolRequest()));
    InvalidStatusException status = assertInstanceOf(InvalidStatusException.class, failure);
    assertEquals(GrpcStatus.PERMISSION_DENIED, status.actualStatus());
  }

  @Test
  void enrol_refused_whenProtocolVersionDiffers() throws Exception {
    Throwable failure = awaitFailure(client(pki.bank("bank-1"))
        .enrol(EnrolRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT + 1).build()));
    assertEquals(GrpcStatus.FAILED_PRECONDITION, assertInstanceOf(InvalidStatusException.class, failure).actualStatus());
  }

  @Test
  void message_refused_whenOverSizeLimit_andServiceGoesOn() throws Exception {
    FederationGrpcClient bank = client(pki.bank("bank-1"));
    await(bank.enrol(enrolRequest()));
    ModelUpdate.Builder huge = ModelUpdate.newBuilder();
    for (int i = 0; i < MAX_MESSAGE_BYTES; i++) {
      huge.addDelta(i);
    }
    TaskResult oversized = TaskResult.newBuilder().setHeader(Headers.of("job-1", 1, Stage.TRAIN)).setUpdate(huge).build();
    Throwable tooBig = awaitFailure(bank.submitResult(oversized));
    assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, assertInstanceOf(InvalidStatusException.class, tooBig).actualStatus(),
        "refused by the size limit: " + tooBig);
    // the same bank goes on on its connection (a second connection with its certificate would be refused)
    assertEquals("bank-1", await(bank.enrol(enrolRequest())).getMemberId());
  }

  @Test
  void result_refused_whenForUnknownJob() throws Exception {
    FederationGrpcClient bank = client(pki.bank("bank-1"));
    await(bank.enrol(enrolRequest()));
    Throwable failure = awaitFailure(bank.submitResult(
        TaskResult.newBuilder().setHeader(Headers.of("no-such-job", 1, Stage.TRAIN)).build()));
    InvalidStatusException status = assertInstanceOf(InvalidStatusException.class, failure);
    assertEquals(GrpcStatus.FAILED_PRECONDITION, status.actualStatus());
  }

  @Test
  void result_refused_whenNoStageIsOpenForIt() throws Exception {
    FederationGrpcClient bank = client(pki.bank("bank-1"));
    await(bank.enrol(enrolRequest()));
    Throwable failure = awaitFailure(bank.submitResult(
        TaskResult.newBuilder().setHeader(Headers.of("job-1", 4, Stage.TRAIN)).build()));
    assertEquals(GrpcStatus.FAILED_PRECONDITION, assertInstanceOf(InvalidStatusException.class, failure).actualStatus());
  }

  @Test
  void operatorApi_showsJobToOperator_andRefusesBank() throws Exception {
    await(client(pki.bank("bank-1")).enrol(enrolRequest()));
    Response ok = get(pki.operator(), "/api/v1/job");
    assertEquals(200, ok.status());
    io.vertx.core.json.JsonObject job = new io.vertx.core.json.JsonObject(ok.body());
    assertEquals("job-1", job.getString("job_id"));
    assertEquals("waiting", job.getString("state"));
    assertEquals(true, job.getJsonObject("members").getJsonObject("bank-1").getBoolean("connected"));
    assertEquals(403, get(pki.bank("bank-2"), "/api/v1/job").status());
    Response ledger = get(pki.auditor(), "/api/v1/ledger");
    assertEquals(200, ledger.status());
    assertEquals("consort-privacy-ledger", new io.vertx.core.json.JsonObject(ledger.body()).getString("format"));
  }

  private record Response(int status, String body) {}

  /**
   * One HTTPS GET; the body is read in the response callback, as Vert.x requires. The client is held
   * until the response is in and then closed: Vert.x closes an unreachable client's pool, so a client
   * dropped mid-request fails with "Pool closed" whenever the collector runs.
   */
  private Response get(TlsMaterial identity, String path) throws Exception {
    io.vertx.core.http.HttpClient client = https(identity);
    try {
      return await(client.request(io.vertx.core.http.HttpMethod.GET, service.apiPort(), "localhost", path)
          .compose(r -> r.send())
          .compose(r -> r.body().map(b -> new Response(r.statusCode(), b.toString()))));
    } finally {
      await(client.close());
    }
  }

  private io.vertx.core.http.HttpClient https(TlsMaterial identity) {
    return vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(true)
        .setKeyCertOptions(new PemKeyCertOptions().setKeyPath(identity.keyFile().toString())
            .setCertPath(identity.chainFile().toString()))
        .setTrustOptions(new PemTrustOptions().addCertPath(identity.caFile().toString())));
  }

  // ------------------------------------------------------------------ helpers

  private FederationGrpcClient client(TlsMaterial identity) {
    GrpcClient grpc = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(16L << 20),
        TestCoordinator.tls(identity));
    clients.add(grpc);
    return FederationGrpcClient.create(grpc, SocketAddress.inetSocketAddress(service.actualPort(), "localhost"));
  }
}
