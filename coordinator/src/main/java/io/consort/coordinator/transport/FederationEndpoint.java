package io.consort.coordinator.transport;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.consort.identity.PeerIdentity;
import io.consort.protocol.ProtocolVersion;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.WireLimits;
import io.consort.protocol.WireText;
import io.consort.protocol.v1.Ack;
import io.consort.protocol.v1.EnrolRequest;
import io.consort.protocol.v1.EnrolResponse;
import io.consort.protocol.v1.FederationGrpcService;
import io.consort.protocol.v1.Header;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskRequest;
import io.consort.protocol.v1.TaskResult;
import io.consort.transport.RefusalLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's gRPC surface, behind the {@link CallGuard} (certificate, CRL and role checked
 * on every call; no compressed, oversized or second message reaches this class). Each call's one
 * message is parsed here from its raw bytes, its strings checked ({@link WireText}), and the
 * caller's session claimed ({@link MemberRegistry#claim}: one session per identity). The caller's
 * identity is the certificate's, never a name the caller declares. Every path answers the call
 * with a status; a refused call's status names the problem without echoing what the caller sent,
 * is logged once (rate-limited) with the peer and the reason, and the service goes on.
 */
public final class FederationEndpoint {
  private static final Logger log = LoggerFactory.getLogger(FederationEndpoint.class);
  /** What a bank learns when its result answers no stage it was asked for, whatever the reason. */
  static final String NOT_ACCEPTED = "the result answers no open stage this bank was asked for (or was already"
      + " answered); the coordinator's log has the details";

  private final Vertx vertx;
  private final MemberRegistry registry;
  private final ResultSink results;
  private final String coordinatorId;
  private final int maxMessageBytes;
  private final BiConsumer<String, String> enrolmentRecorder;
  private final CallGuard guard;
  private final RefusalLog refusals;
  private final Duration messageTimeout;
  private final Duration maxPoll;

  /**
   * @param enrolmentRecorder called with (member id, certificate serial hex) on each enrolment;
   *     it must not block (hand database work to a worker)
   * @param guard the guard in front of the gRPC server, which authenticated the call
   * @param messageTimeout how long a call may take to deliver its message before it is refused
   * @param maxPoll the longest a long-poll is held, whatever the bank asks
   */
  public FederationEndpoint(Vertx vertx, MemberRegistry registry, ResultSink results, String coordinatorId,
                            int maxMessageBytes, BiConsumer<String, String> enrolmentRecorder, CallGuard guard,
                            RefusalLog refusals, Duration messageTimeout, Duration maxPoll) {
    this.vertx = vertx;
    this.registry = registry;
    this.results = results;
    this.coordinatorId = coordinatorId;
    this.maxMessageBytes = maxMessageBytes;
    this.enrolmentRecorder = enrolmentRecorder;
    this.guard = guard;
    this.refusals = refusals;
    this.messageTimeout = messageTimeout;
    this.maxPoll = maxPoll;
  }

  public void bind(GrpcServer server) {
    server.callHandler(FederationGrpcService.Enrol, req -> call(req, EnrolRequest.parser(), this::enrol));
    server.callHandler(FederationGrpcService.PullTask, req -> call(req, TaskRequest.parser(), this::pullTask));
    server.callHandler(FederationGrpcService.SubmitResult, req -> call(req, TaskResult.parser(), this::submit));
  }

  @FunctionalInterface
  private interface Handler<Req, Resp> {
    void handle(GrpcServerRequest<Req, Resp> req, Caller caller, Req message);
  }

  /** The authenticated caller of one call. */
  private record Caller(PeerIdentity identity, X509Certificate certificate, HttpConnection connection, String peer) {
    String name() {
      return identity.name();
    }
  }

  /**
   * Reads the call's one message from its raw bytes (never through the gRPC layer's decoder, which
   * would inflate a compressed message) and hands it on; answers every other path with a status.
   */
  private <Req extends Message, Resp> void call(GrpcServerRequest<Req, Resp> req, Parser<Req> parser,
                                                Handler<Req, Resp> handler) {
    CallAuthenticator.Verdict verdict = guard.caller(req.connection());
    String address = String.valueOf(req.connection().remoteAddress());
    if (!verdict.admitted()) {
      refuse(req, address, GrpcStatus.PERMISSION_DENIED, verdict.refusal()); // the guard lets no such call through
      return;
    }
    Caller caller = new Caller(verdict.identity(), verdict.certificate(), req.connection(),
        verdict.identity().name() + " (" + address + ")");
    boolean[] received = {false};
    long deadline = vertx.setTimer(messageTimeout.toMillis(), t -> {
      if (!received[0]) {
        received[0] = true;
        refuse(req, caller.peer(), GrpcStatus.DEADLINE_EXCEEDED, "no complete message within "
            + messageTimeout.toSeconds() + " s");
      }
    });
    req.messageHandler(frame -> {
      if (received[0]) {
        return;
      }
      received[0] = true;
      vertx.cancelTimer(deadline);
      if (!"identity".equals(frame.encoding())) {
        refuse(req, caller.peer(), GrpcStatus.UNIMPLEMENTED, "the message is compressed; this server reads only"
            + " uncompressed messages (grpc-encoding identity)");
        return;
      }
      Req message;
      try {
        message = WireLimits.decode(parser, frame.payload().getBytes(), maxMessageBytes, "the message");
        WireText.check(message, "the message's");
      } catch (ProtocolViolationException e) {
        refuse(req, caller.peer(), GrpcStatus.INVALID_ARGUMENT, e.getMessage());
        return;
      }
      try {
        handler.handle(req, caller, message);
      } catch (RuntimeException e) {
        log.error("call {} from {} failed", req.fullMethodName(), caller.peer(), e);
        refuse(req, caller.peer(), GrpcStatus.INTERNAL, "the call could not be processed ("
            + e.getClass().getSimpleName() + ")");
      }
    });
    req.endHandler(v -> {
      if (!received[0]) {
        received[0] = true;
        vertx.cancelTimer(deadline);
        refuse(req, caller.peer(), GrpcStatus.INVALID_ARGUMENT, "the call ended without a message");
      }
    });
    req.exceptionHandler(e -> vertx.cancelTimer(deadline));
  }

  private void enrol(GrpcServerRequest<EnrolRequest, EnrolResponse> req, Caller caller, EnrolRequest msg) {
    try {
      ProtocolVersion.require(msg.getProtocolVersion());
    } catch (ProtocolViolationException e) {
      refuse(req, caller.peer(), GrpcStatus.FAILED_PRECONDITION, e.getMessage());
      return;
    }
    claimed(req, caller).onSuccess(v -> {
      registry.enrol(caller.name(), caller.certificate());
      enrolmentRecorder.accept(caller.name(), caller.identity().serial().toString(16));
      log.info("bank '{}' enrolled from {} (certificate serial {}, software {})", caller.name(),
          caller.connection().remoteAddress(), caller.identity().serial().toString(16),
          WireText.quote(msg.getSoftwareVersion()));
      answer(req, EnrolResponse.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
          .setMemberId(caller.name()).setCoordinatorId(coordinatorId).setMaxMessageBytes(maxMessageBytes).build());
    });
  }

  private void pullTask(GrpcServerRequest<TaskRequest, Task> req, Caller caller, TaskRequest msg) {
    if (!registry.isEnrolled(caller.name())) {
      refuse(req, caller.peer(), GrpcStatus.FAILED_PRECONDITION, "enrol before pulling tasks");
      return;
    }
    claimed(req, caller).onSuccess(v -> {
      Mailbox mailbox = registry.mailbox(caller.name());
      long wait = Math.min(maxPoll.toMillis(), msg.getWaitMillis() & 0xffffffffL);
      Future<Task> poll = mailbox.poll(wait);
      // a poll whose call ends (cancelled, reset, connection gone) takes no task with it
      req.errorHandler(e -> mailbox.cancel(poll));
      req.exceptionHandler(e -> mailbox.cancel(poll));
      req.response().exceptionHandler(e -> mailbox.cancel(poll));
      poll.onSuccess(task -> answer(req, task).onFailure(e -> {
        if (!task.hasWait()) {
          log.info("a task for bank '{}' could not be written to its poll ({}); it stays queued", caller.name(),
              e.getMessage());
          mailbox.requeue(task);
        }
      }));
    });
  }

  private void submit(GrpcServerRequest<TaskResult, Ack> req, Caller caller, TaskResult msg) {
    if (!registry.isEnrolled(caller.name())) {
      refuse(req, caller.peer(), GrpcStatus.FAILED_PRECONDITION, "enrol before submitting results");
      return;
    }
    claimed(req, caller).onSuccess(v -> {
      try {
        results.accept(caller.name(), msg);
        answer(req, Ack.newBuilder().setAccepted(true).build());
      } catch (ProtocolViolationException e) {
        // the details (which stage is open, whether the bank was asked) stay in the log: a bank that
        // was not asked must not learn the open round and stage from the answer
        refusals.refused(caller.peer(), "result for " + describe(msg.getHeader()), e.getMessage());
        reply(req, GrpcStatus.FAILED_PRECONDITION, NOT_ACCEPTED);
      }
    });
  }

  /** Claims the caller's session; refuses the call (and completes nothing) when another connection holds it. */
  private Future<Void> claimed(GrpcServerRequest<?, ?> req, Caller caller) {
    return registry.claim(caller.name(), caller.connection()).onFailure(e ->
        refuse(req, caller.peer(), e instanceof MemberRegistry.SecondSessionException ? GrpcStatus.ALREADY_EXISTS
            : GrpcStatus.UNAVAILABLE, e.getMessage()));
  }

  private static String describe(Header header) {
    return "job " + WireText.quote(header.getJobId()) + " round " + header.getRound() + " stage "
        + header.getStage();
  }

  /** Answers the call with {@code status} and logs the refusal, unless the call already has its answer. */
  private void refuse(GrpcServerRequest<?, ?> req, String peer, GrpcStatus status, String why) {
    if (reply(req, status, why)) {
      refusals.refused(peer, "call /" + req.fullMethodName(), status.name() + ": " + why);
    }
  }

  /** False when the call already had its answer (the guard refused it) or its stream is gone. */
  private static boolean reply(GrpcServerRequest<?, ?> req, GrpcStatus status, String why) {
    try {
      req.response().status(status).statusMessage(why).end();
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  /** Writes the call's one answer; fails when it could not be written (the call was cancelled, its stream is gone). */
  private static <Resp> Future<Void> answer(GrpcServerRequest<?, Resp> req, Resp response) {
    try {
      return req.response().end(response);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
