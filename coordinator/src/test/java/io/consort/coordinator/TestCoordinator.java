package io.consort.coordinator;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.coordinator.job.JobDefinition;
import io.consort.coordinator.job.ModelOps;
import io.consort.model.data.DataSchema;
import io.consort.protocol.ProtocolVersion;
import io.consort.protocol.v1.EnrolRequest;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.FeatureEncoding;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.FederationGrpcClient;
import io.consort.protocol.v1.ModelParameters;
import io.consort.spec.JobSpec;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A coordinator on loopback over real mutual TLS, with clients holding any identity of its demo
 * PKI, for tests that attack the transport: gRPC stubs, and raw HTTP/2 calls that write exactly
 * the bytes and headers an attacker would.
 */
final class TestCoordinator implements AutoCloseable {
  static final int MAX_MESSAGE_BYTES = 2 << 20;

  final Vertx vertx = Vertx.vertx();
  final DemoPki pki;
  final CoordinatorService service;
  private final List<GrpcClient> grpcClients = new ArrayList<>();
  private final List<HttpClient> httpClients = new ArrayList<>();

  /**
   * @param expectedBanks banks the job waits for before it offers (more than will come: only the
   *     transport is exercised)
   */
  TestCoordinator(Path dir, List<String> banks, int expectedBanks, ServerLimits limits) throws Exception {
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", banks);
    service = deploy(dir, pki, expectedBanks, limits);
  }

  private CoordinatorService deploy(Path dir, DemoPki pki, int expectedBanks, ServerLimits limits) throws Exception {
    TlsMaterial c = pki.coordinator();
    JobSpec plan = JobSpec.builder().id("job-1").rounds(1).minBanks(1)
        .schema(new DataSchema(List.of("x"), List.of(), "y", "1")).build();
    JobDefinition job = new JobDefinition(plan, expectedBanks, Duration.ofMinutes(10), Duration.ofSeconds(30));
    CoordinatorConfig config = new CoordinatorConfig("127.0.0.1", 0, c.keyFile(), c.chainFile(), c.caFile(),
        c.crlFile(), dir.resolve("data"), MAX_MESSAGE_BYTES, Duration.ofSeconds(1), false, job, 0);
    CoordinatorService s = new CoordinatorService(config, new UnusedModelOps(), limits);
    vertx.deployVerticle(s).await(30, TimeUnit.SECONDS);
    return s;
  }

  int port() {
    return service.actualPort();
  }

  static EnrolRequest enrolRequest() {
    return EnrolRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT).setSoftwareVersion("test").build();
  }

  static HttpClientOptions tls(TlsMaterial identity) {
    return new HttpClientOptions().setSsl(true).setUseAlpn(true)
        .setProtocolVersion(HttpVersion.HTTP_2).setVerifyHost(true)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.3"))
        .setKeyCertOptions(new PemKeyCertOptions().setKeyPath(identity.keyFile().toString())
            .setCertPath(identity.chainFile().toString()))
        .setTrustOptions(new PemTrustOptions().addCertPath(identity.caFile().toString()));
  }

  /** A gRPC stub on its own connection with {@code identity}'s certificate. */
  FederationGrpcClient client(TlsMaterial identity) {
    return client(tls(identity));
  }

  FederationGrpcClient client(HttpClientOptions http) {
    GrpcClient grpc = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(16L << 20), http);
    grpcClients.add(grpc);
    return FederationGrpcClient.create(grpc, SocketAddress.inetSocketAddress(port(), "localhost"));
  }

  /** The gRPC client of the last {@link #client} call, e.g. to close its connection. */
  GrpcClient lastGrpcClient() {
    return grpcClients.get(grpcClients.size() - 1);
  }

  /** An HTTP/2 client on its own connection with {@code identity}'s certificate, for raw calls. */
  HttpClient http(TlsMaterial identity) {
    HttpClient client = vertx.createHttpClient(tls(identity));
    httpClients.add(client);
    return client;
  }

  /** What a raw call got back: the gRPC status (from the headers of a trailers-only answer, or the trailers). */
  record Answer(int httpStatus, String grpcStatus, String grpcMessage, MultiMap headers, Buffer body) {
    int code() {
      return grpcStatus == null ? -1 : Integer.parseInt(grpcStatus);
    }

    /** The one message of the answer's body (after its 5-byte frame prefix). */
    byte[] message() {
      return body.getBytes(5, body.length());
    }
  }

  /** Frames {@code payload} as one gRPC message with the compressed flag {@code flag}. */
  static Buffer frame(int flag, byte[] payload) {
    return Buffer.buffer().appendByte((byte) flag).appendInt(payload.length).appendBytes(payload);
  }

  /** Sends {@code body} as the request stream of {@code method}, with the extra headers, and reads the answer. */
  Future<Answer> raw(HttpClient client, String method, MultiMap extraHeaders, Buffer body) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost("localhost").setPort(port())
        .setURI(method).putHeader("content-type", "application/grpc").putHeader("te", "trailers");
    extraHeaders.forEach(options::putHeader);
    return client.request(options).compose(req -> {
      // the response is read from its first event on: an answer may come before the request is written
      Promise<Answer> answer = Promise.promise();
      req.exceptionHandler(answer::tryFail);
      req.response().onFailure(answer::tryFail).onSuccess(resp -> {
        Buffer received = Buffer.buffer();
        resp.exceptionHandler(answer::tryFail);
        resp.handler(received::appendBuffer);
        resp.endHandler(v -> {
          boolean trailersOnly = resp.getHeader("grpc-status") != null;
          String status = trailersOnly ? resp.getHeader("grpc-status") : resp.getTrailer("grpc-status");
          String message = trailersOnly ? resp.getHeader("grpc-message") : resp.getTrailer("grpc-message");
          answer.tryComplete(new Answer(resp.statusCode(), status, message == null ? null : decode(message),
              resp.headers(), received));
        });
      });
      req.end(body);
      return answer.future();
    });
  }

  private static String decode(String percentEncoded) {
    return java.net.URLDecoder.decode(percentEncoded.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The job's status as the operator API shows it. */
  JsonObject status() throws Exception {
    Promise<JsonObject> status = Promise.promise();
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(true)
        .setKeyCertOptions(new PemKeyCertOptions().setKeyPath(pki.operator().keyFile().toString())
            .setCertPath(pki.operator().chainFile().toString()))
        .setTrustOptions(new PemTrustOptions().addCertPath(pki.operator().caFile().toString())));
    try {
      return client.request(HttpMethod.GET, service.apiPort(), "localhost", "/api/v1/job")
          .compose(r -> r.send()).compose(r -> r.body().map(b -> new JsonObject(b.toString())))
          .await(20, TimeUnit.SECONDS);
    } finally {
      client.close().await(20, TimeUnit.SECONDS);
    }
  }

  /** What the operator API answered. */
  record ApiAnswer(int status, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  /**
   * One HTTPS call to the operator API with {@code identity}'s certificate (HTTP/1.1, as browsers and
   * curl speak it), the client closed once the answer is in.
   */
  ApiAnswer api(TlsMaterial identity, HttpMethod method, String path, Buffer body) throws Exception {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(true)
        .setKeyCertOptions(new PemKeyCertOptions().setKeyPath(identity.keyFile().toString())
            .setCertPath(identity.chainFile().toString()))
        .setTrustOptions(new PemTrustOptions().addCertPath(identity.caFile().toString())));
    try {
      return client.request(method, service.apiPort(), "localhost", path)
          .compose(r -> body == null ? r.send() : r.send(body))
          .compose(r -> r.body().map(b -> new ApiAnswer(r.statusCode(), b.toString())))
          .await(20, TimeUnit.SECONDS);
    } finally {
      client.close().await(20, TimeUnit.SECONDS);
    }
  }

  /** Completes when the coordinator has seen {@code member}'s session end; register before causing it. */
  Future<Void> disconnectOf(String member) {
    Promise<Void> gone = Promise.promise();
    onCoordinator(() -> service.members().onDisconnect(m -> {
      if (m.equals(member)) {
        gone.tryComplete();
      }
    }));
    return gone.future();
  }

  /** Runs {@code action} on the coordinator's event loop and waits for it. */
  void onCoordinator(Runnable action) {
    try {
      service.onEventLoop(action).await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.await(20, TimeUnit.SECONDS);
  }

  static Throwable awaitFailure(Future<?> future) throws Exception {
    try {
      Object value = future.await(20, TimeUnit.SECONDS);
      throw new AssertionError("expected the call to be refused, but it returned " + value);
    } catch (java.util.concurrent.TimeoutException e) {
      throw e;
    } catch (Exception e) {
      return e;
    }
  }

  @Override
  public void close() throws Exception {
    for (GrpcClient c : grpcClients) {
      c.close();
    }
    for (HttpClient c : httpClients) {
      c.close();
    }
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  /** The transport tests never reach the model stages. */
  static final class UnusedModelOps implements ModelOps {
    @Override
    public FeatureEncoding mergeFeatureStats(JobSpec plan, List<FeatureStats> stats) {
      throw new AssertionError("not reached");
    }

    @Override
    public ModelParameters initialModel(JobSpec plan, FeatureEncoding encoding) {
      throw new AssertionError("not reached");
    }

    @Override
    public Metrics mergeEvaluations(List<EvaluationResult> evaluations, List<String> columns) {
      throw new AssertionError("not reached");
    }

    @Override
    public MergedStatistics mergeFirstStage(JobSpec plan, int[] sum, int banks, List<FeatureStats> names) {
      throw new AssertionError("not reached");
    }

    @Override
    public MergedStatistics mergeSecondStage(JobSpec plan, FeatureEncoding preliminary, int[] sum, int banks) {
      throw new AssertionError("not reached");
    }

    @Override
    public Metrics metricsFromSum(int bins, List<String> columns, int[] sum, int banks) {
      throw new AssertionError("not reached");
    }
  }
}
