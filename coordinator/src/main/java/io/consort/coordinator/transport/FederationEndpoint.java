package io.consort.coordinator.transport;

import io.consort.identity.CertificateRejectedException;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import io.consort.protocol.ProtocolVersion;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.Ack;
import io.consort.protocol.v1.EnrolRequest;
import io.consort.protocol.v1.EnrolResponse;
import io.consort.protocol.v1.FederationGrpcService;
import io.consort.protocol.v1.TaskRequest;
import io.consort.protocol.v1.TaskResult;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.BiConsumer;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's gRPC surface. TLS has already checked that the peer's certificate chains to
 * the consortium CA and is not revoked; here every call is also checked for the participant role,
 * and the caller's identity is the certificate's, never a name the caller declares. A refused call
 * gets a gRPC status whose message names the problem, is logged, and the service goes on.
 */
public final class FederationEndpoint {
  private static final Logger log = LoggerFactory.getLogger(FederationEndpoint.class);
  /** Longest a long-poll is held; well under the usual idle timeouts of proxies and NATs. */
  public static final long MAX_POLL_MILLIS = 25_000;

  private final MemberRegistry registry;
  private final ResultSink results;
  private final String coordinatorId;
  private final int maxMessageBytes;
  private final BiConsumer<String, String> enrolmentRecorder;

  /**
   * @param enrolmentRecorder called with (member id, certificate serial hex) on each enrolment;
   *     it must not block (hand database work to a worker)
   */
  public FederationEndpoint(MemberRegistry registry, ResultSink results, String coordinatorId, int maxMessageBytes,
                            BiConsumer<String, String> enrolmentRecorder) {
    this.registry = registry;
    this.results = results;
    this.coordinatorId = coordinatorId;
    this.maxMessageBytes = maxMessageBytes;
    this.enrolmentRecorder = enrolmentRecorder;
  }

  public void bind(GrpcServer server) {
    server.callHandler(FederationGrpcService.Enrol, req -> req.handler(msg -> enrol(req, msg)));
    server.callHandler(FederationGrpcService.PullTask, req -> req.handler(msg -> pullTask(req, msg)));
    server.callHandler(FederationGrpcService.SubmitResult, req -> req.handler(msg -> submit(req, msg)));
  }

  private void enrol(GrpcServerRequest<EnrolRequest, EnrolResponse> req, EnrolRequest msg) {
    PeerIdentity peer = authenticate(req);
    if (peer == null) {
      return;
    }
    X509Certificate certificate = leafCertificate(req);
    try {
      ProtocolVersion.require(msg.getProtocolVersion());
    } catch (ProtocolViolationException e) {
      refuse(req, GrpcStatus.FAILED_PRECONDITION, peer.name(), e.getMessage());
      return;
    }
    registry.enrol(peer.name(), certificate);
    enrolmentRecorder.accept(peer.name(), peer.serial().toString(16));
    log.info("bank '{}' enrolled (certificate serial {}, software {})", peer.name(), peer.serial().toString(16),
        msg.getSoftwareVersion());
    req.response().end(EnrolResponse.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
        .setMemberId(peer.name()).setCoordinatorId(coordinatorId).setMaxMessageBytes(maxMessageBytes).build());
  }

  private void pullTask(GrpcServerRequest<TaskRequest, io.consort.protocol.v1.Task> req, TaskRequest msg) {
    PeerIdentity peer = authenticate(req);
    if (peer == null) {
      return;
    }
    if (!registry.isEnrolled(peer.name())) {
      refuse(req, GrpcStatus.FAILED_PRECONDITION, peer.name(), "enrol before pulling tasks");
      return;
    }
    // a bank that vanishes (process exit, network loss) closes its connection: stages stop waiting for it
    String member = peer.name();
    io.vertx.core.http.HttpConnection connection = req.connection();
    registry.polling(member, connection);
    connection.closeHandler(v -> registry.disconnected(member, connection));
    long wait = Math.min(MAX_POLL_MILLIS, Math.max(0, msg.getWaitMillis()));
    registry.mailbox(peer.name()).poll(wait).onSuccess(task -> req.response().end(task));
  }

  private void submit(GrpcServerRequest<TaskResult, Ack> req, TaskResult msg) {
    PeerIdentity peer = authenticate(req);
    if (peer == null) {
      return;
    }
    try {
      results.accept(peer.name(), msg);
      req.response().end(Ack.newBuilder().setAccepted(true).build());
    } catch (ProtocolViolationException e) {
      refuse(req, GrpcStatus.FAILED_PRECONDITION, peer.name(), e.getMessage());
    } catch (RuntimeException e) {
      log.error("result from bank '{}' could not be processed", peer.name(), e);
      refuse(req, GrpcStatus.INTERNAL, peer.name(), "result could not be processed: " + e.getMessage());
    }
  }

  /** The peer's identity if it presents a participant certificate; otherwise refuses the call. */
  private PeerIdentity authenticate(GrpcServerRequest<?, ?> req) {
    X509Certificate leaf;
    try {
      List<Certificate> chain = req.connection().peerCertificates();
      if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate)) {
        refuse(req, GrpcStatus.UNAUTHENTICATED, "unknown peer", "no client certificate presented");
        return null;
      }
      leaf = (X509Certificate) chain.get(0);
    } catch (SSLPeerUnverifiedException e) {
      refuse(req, GrpcStatus.UNAUTHENTICATED, "unknown peer", "client certificate not verified: " + e.getMessage());
      return null;
    }
    try {
      PeerIdentity peer = PeerIdentity.fromCertificate(leaf);
      if (peer.role() != Role.PARTICIPANT) {
        refuse(req, GrpcStatus.PERMISSION_DENIED, peer.name(),
            "certificate role is " + peer.role().wireName() + " but this service requires participant");
        return null;
      }
      return peer;
    } catch (CertificateRejectedException e) {
      refuse(req, GrpcStatus.PERMISSION_DENIED, leaf.getSubjectX500Principal().getName(), e.getMessage());
      return null;
    }
  }

  private static X509Certificate leafCertificate(GrpcServerRequest<?, ?> req) {
    try {
      return (X509Certificate) req.connection().peerCertificates().get(0);
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  private static void refuse(GrpcServerRequest<?, ?> req, GrpcStatus status, String who, String why) {
    log.warn("refused {} from {}: {}", req.fullMethodName(), who, why);
    req.response().status(status).statusMessage(why).end();
  }
}
