package io.consort.coordinator.transport;

import io.consort.identity.Role;
import io.consort.protocol.WireText;
import io.consort.transport.RefusalLog;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.grpc.common.GrpcStatus;
import java.util.EnumSet;
import java.util.Set;

/**
 * The first handler of every request on the federation port, before the gRPC layer: the caller's
 * certificate is validated now ({@link CallAuthenticator}: CRL, expiry, role {@code participant}),
 * the method must be one of the Federation service's, the content type protobuf, and the message
 * encoding identity (gzip and every other encoding are refused, so nothing is ever inflated; the
 * server also stops advertising gzip). The request stream is then read through
 * {@link GuardedRequest}. Every refusal answers the call with a gRPC status naming the problem and
 * writes one rate-limited log line with the peer and the reason.
 */
public final class CallGuard implements Handler<HttpServerRequest> {
  static final Set<String> METHODS = Set.of("/consort.v1.Federation/Enrol", "/consort.v1.Federation/PullTask",
      "/consort.v1.Federation/SubmitResult");
  private static final Set<Role> PARTICIPANT = EnumSet.of(Role.PARTICIPANT);

  private final CallAuthenticator authenticator;
  private final Handler<HttpServerRequest> grpc;
  private final long maxMessageBytes;
  private final RefusalLog refusals;

  /**
   * @param grpc the gRPC server, given each request that passes
   * @param maxMessageBytes the largest message a call may carry
   */
  public CallGuard(CallAuthenticator authenticator, Handler<HttpServerRequest> grpc, long maxMessageBytes,
                   RefusalLog refusals) {
    this.authenticator = authenticator;
    this.grpc = grpc;
    this.maxMessageBytes = maxMessageBytes;
    this.refusals = refusals;
  }

  @Override
  public void handle(HttpServerRequest request) {
    String address = String.valueOf(request.connection().remoteAddress());
    String method = request.path();
    CallAuthenticator.Verdict who = authenticator.authenticate(request.connection(), PARTICIPANT);
    if (!who.admitted()) {
      refuse(request, address, method, who.unauthenticated() ? GrpcStatus.UNAUTHENTICATED
          : GrpcStatus.PERMISSION_DENIED, who.refusal());
      return;
    }
    String peer = who.identity().name() + " (" + address + ")";
    if (!METHODS.contains(method)) {
      refuse(request, peer, method, GrpcStatus.UNIMPLEMENTED, "no such method; the Federation service has Enrol,"
          + " PullTask and SubmitResult");
      return;
    }
    String contentType = request.getHeader("content-type");
    if (!"application/grpc".equals(contentType) && !"application/grpc+proto".equals(contentType)) {
      refuse(request, peer, method, GrpcStatus.INVALID_ARGUMENT, "content-type " + WireText.quote(contentType)
          + " is not accepted; the Federation service reads application/grpc (protobuf)");
      return;
    }
    String encoding = request.getHeader("grpc-encoding");
    if (encoding != null && !"identity".equals(encoding)) {
      refuse(request, peer, method, GrpcStatus.UNIMPLEMENTED, "grpc-encoding " + WireText.quote(encoding)
          + " is not accepted; this server reads only uncompressed messages (identity)");
      return;
    }
    // the gRPC layer would advertise gzip in every response; this server accepts identity only
    request.response().headersEndHandler(v -> request.response().headers().set("grpc-accept-encoding", "identity"));
    grpc.handle(new GuardedRequest((HttpServerRequestInternal) request, maxMessageBytes,
        (status, reason) -> refuse(request, peer, method, status, reason)));
  }

  private void refuse(HttpServerRequest request, String peer, String method, GrpcStatus status, String reason) {
    refusals.refused(peer, "call " + (METHODS.contains(method) ? method : WireText.quote(method)),
        status.name() + ": " + reason);
    GrpcReplies.status(request.response(), status, reason);
  }

  /** The identity the guard admitted on {@code connection} (cached: no second validation). */
  CallAuthenticator.Verdict caller(HttpConnection connection) {
    return authenticator.authenticate(connection, PARTICIPANT);
  }
}
