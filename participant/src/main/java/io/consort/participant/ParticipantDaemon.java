package io.consort.participant;

import io.consort.model.data.DataFormatException;
import io.consort.protocol.ProtocolVersion;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.WireText;
import io.consort.protocol.v1.EnrolRequest;
import io.consort.protocol.v1.EnrolResponse;
import io.consort.protocol.v1.ErrorCode;
import io.consort.protocol.v1.ErrorReport;
import io.consort.protocol.v1.FederationGrpcClient;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskRequest;
import io.consort.protocol.v1.TaskResult;
import io.consort.transport.HandshakeObserver;
import io.consort.transport.RefusalLog;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrustOptions;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcErrorException;
import io.vertx.grpc.common.GrpcStatus;
import io.consort.spec.InvalidJobSpecException;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bank's outbound client: enrol, long-poll for a task, run it on a worker thread, push the
 * result, repeat. The next poll goes out with the result, not after its acknowledgement, so the
 * coordinator can hand the next stage's task to it the moment the stage closes (one round trip a
 * stage less); a task that arrives before the result is acknowledged waits for that, so tasks still
 * run one at a time and in order. When the coordinator is unreachable it reconnects with capped exponential
 * backoff and jitter. {@link #stop()} (wired to SIGTERM by the CLI) ends the loop cleanly.
 *
 * <p>What the coordinator sends is hostile until checked: a task whose strings break the wire
 * bounds ({@link WireText}) is refused before any code of the bank reads it, a {@code Wait} is
 * honoured for at most {@link #MAX_WAIT_MILLIS} and, when it comes back at once, for at least
 * {@link #MIN_QUICK_WAIT_MILLIS} (a coordinator cannot make the bank poll in a busy loop), and a
 * failed TLS handshake is logged with the coordinator's address and the reason. The coordinator's
 * certificate is checked against the bank's CRL ({@code tls.crl}, re-read when the file changes) at
 * every handshake and again before the bank acts on an enrolment or a task ({@link CoordinatorTrust}).
 */
public final class ParticipantDaemon {
  private static final Logger log = LoggerFactory.getLogger(ParticipantDaemon.class);
  private static final RefusalLog refusals = RefusalLog.of(LoggerFactory.getLogger("io.consort.participant.refusals"));
  private static final int POLL_WAIT_MILLIS = 20_000;
  private static final long MIN_BACKOFF_MILLIS = 250;
  private static final long MAX_BACKOFF_MILLIS = 15_000;
  /** The longest {@code Wait} a bank honours before it polls again. */
  static final long MAX_WAIT_MILLIS = 60_000;
  /** The shortest pause after a {@code Wait} that came back within {@link #QUICK_ANSWER_MILLIS} of the poll. */
  static final long MIN_QUICK_WAIT_MILLIS = 1_000;
  static final long QUICK_ANSWER_MILLIS = 500;
  /** The longest a call to the coordinator may take (a long-poll is held 25 s at most). */
  static final long CALL_DEADLINE_SECONDS = 120;
  static final long HANDSHAKE_TIMEOUT_SECONDS = 60;
  /** Exit status of a process killed by fault injection; the demo restarts such a bank. */
  public static final int FAULT_EXIT_STATUS = 3;

  private final Vertx vertx;
  private final ParticipantConfig config;
  private final TaskHandler handler;
  private final IntConsumer exit;
  private final SecureRandom jitter = new SecureRandom();
  private final Promise<String> enrolled = Promise.promise();
  private GrpcClient grpc;
  private FederationGrpcClient stub;
  private CoordinatorTrust trust;
  /** The bank's key and chain, read once at start ({@link ClientIdentity}). */
  private io.vertx.core.net.KeyCertOptions identity;
  private volatile boolean running;
  private long backoff = MIN_BACKOFF_MILLIS;
  private String memberId;
  /** A result is on its way to the coordinator (sent or retrying) and not yet acknowledged or given up. Event loop only. */
  private boolean submitting;
  /** A task that arrived while {@link #submitting}: it runs when the submission settles. Event loop only. */
  private Task heldTask;
  /** System.nanoTime of the last answer from the coordinator (enrolment or poll), 0 before any. */
  private volatile long lastContact;

  /**
   * @param exit called with a status code when fault injection asks the process to die (the CLI
   *     passes {@code System::exit}; tests pass something observable)
   */
  public ParticipantDaemon(Vertx vertx, ParticipantConfig config, TaskHandler handler, IntConsumer exit) {
    this.vertx = vertx;
    this.config = config.validate();
    this.handler = handler;
    this.exit = exit;
  }

  public void start() {
    try {
      trust = CoordinatorTrust.open(config.caFile(), config.crlFile());
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      throw new IllegalStateException("tls.ca " + config.caFile() + " / tls.crl " + config.crlFile()
          + " cannot be used: " + e.getMessage(), e);
    }
    identity = ClientIdentity.load(config.keyFile(), config.certFile());
    connect();
    running = true;
    vertx.runOnContext(v -> enrol());
  }

  /** A new client, so the next call opens a new connection and its handshake checks the coordinator again. */
  private void connect() {
    HttpClientOptions http = new HttpClientOptions().setSsl(true).setUseAlpn(true)
        .setProtocolVersion(HttpVersion.HTTP_2).setVerifyHost(true)
        // The bank holds no call while it works on a task, which can take minutes (DP-SGD on DL4J clips
        // example by example); the pool's default of 60 s unused would close the connection mid-round and
        // the coordinator would drop the bank as disconnected. 0: no pool timeout; a dead connection is
        // still found by the coordinator's PINGs and idle timeout, and by this client's call deadlines.
        .setHttp2KeepAliveTimeout(0)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.3"))
        .setKeyCertOptions(identity)
        // the client's own limit on the handshake (Vert.x's default is 10 s): the coordinator holds
        // unauthenticated peers to its own, and a bank that starts with many others on a busy machine
        // should wait rather than abandon a handshake that is queued behind theirs
        .setSslHandshakeTimeout(HANDSHAKE_TIMEOUT_SECONDS).setSslHandshakeTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS)
        .setTrustOptions(TrustOptions.wrap(trust))
        .setSslEngineOptions(new HandshakeObserver((peer, reason) ->
            refusals.refused(peer + " (the coordinator)", "TLS handshake", reason)));
    // every call has a deadline, so a coordinator (or a link) that stalls costs the bank one deadline,
    // after which it reconnects
    grpc = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(config.maxMessageBytes())
        .setScheduleDeadlineAutomatically(true).setTimeout((int) CALL_DEADLINE_SECONDS)
        .setTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS), http);
    stub = FederationGrpcClient.create(grpc,
        SocketAddress.inetSocketAddress(config.coordinatorPort(), config.coordinatorHost()));
  }

  /**
   * Whether the coordinator's certificate on the open connection is still believed (the bank's CRL
   * may have changed since the handshake). If not, nothing it sent is acted on: the refusal is
   * logged, the connection dropped, and the bank tries again later on a new one, whose handshake
   * checks the certificate again.
   */
  private boolean coordinatorTrusted(String what) {
    Optional<String> distrust = trust.stillTrusted();
    if (distrust.isEmpty()) {
      return true;
    }
    refusals.refused(config.coordinatorHost() + ":" + config.coordinatorPort() + " (the coordinator)", what,
        distrust.get());
    GrpcClient old = grpc;
    connect();
    old.close();
    retryLater("the coordinator's certificate is not trusted", new IllegalStateException(distrust.get()),
        this::enrol);
    return false;
  }

  /** Completes with this bank's member id (from its certificate) once the coordinator admits it. */
  public Future<String> enrolled() {
    return enrolled.future();
  }

  /**
   * What the bank's own monitoring sees: whether the daemon runs, whether it has enrolled, and how
   * long ago the coordinator last answered. Ready means enrolled and answered within two long polls.
   */
  public io.vertx.core.json.JsonObject health() {
    long last = lastContact;
    double ago = last == 0 ? -1 : (System.nanoTime() - last) / 1e9;
    boolean ready = running && enrolled.future().succeeded() && last != 0 && ago < 2.0 * POLL_WAIT_MILLIS / 1000;
    io.vertx.core.json.JsonObject h = new io.vertx.core.json.JsonObject().put("running", running)
        .put("ready", ready).put("enrolled", enrolled.future().succeeded());
    if (last != 0) {
      h.put("coordinator_answered_seconds_ago", Math.round(ago * 10) / 10.0);
    }
    return h;
  }

  public Future<Void> stop() {
    running = false;
    return grpc == null ? Future.succeededFuture() : grpc.close();
  }

  private void enrol() {
    if (!running) {
      return;
    }
    stub.enrol(EnrolRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
            .setSoftwareVersion(ParticipantDaemon.class.getPackage().getImplementationVersion() == null ? "dev"
                : ParticipantDaemon.class.getPackage().getImplementationVersion()).build())
        .onSuccess(this::onEnrolled)
        .onFailure(e -> retryLater("enrolment failed", e, this::enrol));
  }

  private void onEnrolled(EnrolResponse response) {
    if (!coordinatorTrusted("enrolment")) {
      return;
    }
    memberId = response.getMemberId();
    lastContact = System.nanoTime();
    backoff = MIN_BACKOFF_MILLIS;
    log.info("enrolled with {} as '{}'", response.getCoordinatorId(), memberId);
    enrolled.tryComplete(memberId);
    poll();
  }

  private void poll() {
    if (!running) {
      return;
    }
    long sent = System.nanoTime();
    stub.pullTask(TaskRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
            .setWaitMillis(POLL_WAIT_MILLIS).build())
        .onSuccess(task -> {
          lastContact = System.nanoTime();
          backoff = MIN_BACKOFF_MILLIS;
          if (task.hasWait()) {
            long answeredAfter = (System.nanoTime() - sent) / 1_000_000;
            vertx.setTimer(waitMillis(task.getWait().getRetryAfterMillis(), answeredAfter), t -> poll());
          } else if (coordinatorTrusted("task") && acceptable(task)) {
            if (submitting) {
              heldTask = task; // the result before it is still unacknowledged: run it once that settles
            } else {
              run(task);
            }
          }
        })
        // after a coordinator restart the bank must enrol again before it may poll
        .onFailure(e -> {
          if (stalled(e)) {
            // the connection carried nothing for a whole deadline: drop it, the next call opens a new one
            GrpcClient old = grpc;
            connect();
            old.close();
          }
          retryLater("task poll failed", e, this::enrol);
        });
  }

  /**
   * How long to wait after a {@code Wait}: what the coordinator asked, at most
   * {@link #MAX_WAIT_MILLIS}, and at least {@link #MIN_QUICK_WAIT_MILLIS} when the answer came back
   * at once (a coordinator answering every poll at once with {@code Wait(0)} would make the bank spin).
   */
  static long waitMillis(long retryAfterMillis, long answeredAfterMillis) {
    long asked = Math.min(MAX_WAIT_MILLIS, Math.max(1, retryAfterMillis & 0xffffffffL));
    return answeredAfterMillis < QUICK_ANSWER_MILLIS ? Math.max(MIN_QUICK_WAIT_MILLIS, asked) : asked;
  }

  /**
   * Whether a task's strings keep to the wire bounds. One that does not is refused (and logged once,
   * without its content) before the task handler sees it, reported when its header is sound, and
   * the bank polls again after a pause; this method then arranges the next poll itself.
   */
  private boolean acceptable(Task task) {
    try {
      WireText.check(task, "task");
      return true;
    } catch (ProtocolViolationException e) {
      refusals.refused("the coordinator", "task", e.getMessage());
      boolean headerSound;
      try {
        WireText.check(task.getHeader(), "task header");
        headerSound = true;
      } catch (ProtocolViolationException headerToo) {
        headerSound = false; // nothing of it can be echoed back
      }
      TaskResult report = TaskResult.newBuilder().setHeader(task.getHeader()).setError(ErrorReport.newBuilder()
          .setCode(ErrorCode.PROTOCOL_VIOLATION).setMessage(e.getMessage())).build();
      boolean reportable = headerSound;
      vertx.setTimer(MIN_QUICK_WAIT_MILLIS, t -> {
        if (reportable) {
          submit(report, 1);
        } else {
          poll();
        }
      });
      return false;
    }
  }

  private void run(Task task) {
    Stage stage = task.getHeader().getStage();
    if (faultDue(task) && firstFault(stage)) {
      log.warn("fault injection: exiting at stage {} as configured", stageName(stage));
      exit.accept(FAULT_EXIT_STATUS);
      return;
    }
    vertx.executeBlocking(() -> {
      try {
        return handler.handle(task);
      } catch (Exception e) {
        // a bad data file, plan or message is reported to the coordinator by name; the daemon goes on
        ErrorCode code = errorCode(e);
        if (code == ErrorCode.INTERNAL) {
          log.error("task {} failed", stageName(stage), e);
        } else {
          log.error("task {} failed ({}): {}", stageName(stage), code, e.getMessage());
        }
        return TaskResult.newBuilder().setError(ErrorReport.newBuilder().setCode(code)
            .setMessage(String.valueOf(e.getMessage())));
      }
    }, false).onComplete(ar -> {
      if (ar.failed() || ar.result() == null) {
        poll();
        return;
      }
      submit(ar.result().setHeader(task.getHeader()).build(), 3);
    });
  }

  /** Sends a result and, with it, the next poll (see the class comment). */
  private void submit(TaskResult result, int attempts) {
    submitting = true;
    send(result, attempts);
    poll();
  }

  private void send(TaskResult result, int attemptsLeft) {
    stub.submitResult(result)
        .onSuccess(ack -> submitted())
        .onFailure(e -> {
          if (attemptsLeft > 1 && running && worthRetrying(e)) {
            log.warn("submitting {} failed ({}); retrying", stageName(result.getHeader().getStage()), e.getMessage());
            vertx.setTimer(nextBackoff(), t -> send(result, attemptsLeft - 1));
          } else {
            log.error("coordinator refused or lost result for {}: {}", stageName(result.getHeader().getStage()),
                e.getMessage());
            submitted();
          }
        });
  }

  /** The result in flight was acknowledged or given up: a task that arrived meanwhile runs now. */
  private void submitted() {
    submitting = false;
    Task next = heldTask;
    heldTask = null;
    if (next != null && running && coordinatorTrusted("task")) {
      run(next);
    }
  }

  /** Whether a call failed for want of any answer within its deadline. */
  static boolean stalled(Throwable e) {
    GrpcStatus status = e instanceof InvalidStatusException s ? s.actualStatus()
        : e instanceof GrpcErrorException g ? g.status() : null;
    return status == GrpcStatus.DEADLINE_EXCEEDED || status == GrpcStatus.CANCELLED
        || String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("timeout");
  }

  /** What kind of failure a task's exception is, as the coordinator is told. */
  static ErrorCode errorCode(Exception e) {
    if (e instanceof DataFormatException) {
      return ErrorCode.BAD_DATA;
    }
    if (e instanceof InvalidJobSpecException) {
      return ErrorCode.BAD_PLAN;
    }
    if (e instanceof ProtocolViolationException) {
      return ErrorCode.PROTOCOL_VIOLATION;
    }
    return ErrorCode.INTERNAL;
  }

  /**
   * Whether sending again could succeed: the coordinator answered with a status that says it was
   * unavailable or overloaded, or the call failed below gRPC (connection lost, reset). Any other
   * status is the coordinator refusing this result, and sending it again would be refused again.
   */
  static boolean worthRetrying(Throwable e) {
    GrpcStatus status = e instanceof InvalidStatusException s ? s.actualStatus()
        : e instanceof GrpcErrorException g ? g.status() : null;
    return status == null || status == GrpcStatus.UNAVAILABLE || status == GrpcStatus.DEADLINE_EXCEEDED
        || status == GrpcStatus.ABORTED;
  }

  private void retryLater(String what, Throwable cause, Runnable action) {
    if (!running) {
      return;
    }
    long delay = nextBackoff();
    log.warn("{} ({}); retrying in {} ms", what, cause.getMessage(), delay);
    vertx.setTimer(delay, t -> action.run());
  }

  private long nextBackoff() {
    long current = backoff;
    backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
    return current / 2 + (long) (jitter.nextDouble() * current / 2);
  }

  /**
   * Whether fault injection is configured for this task's stage. A secure-aggregation stage counts only
   * in a training round (round 1 and later): the same stages run at round 0 for the feature statistics'
   * secure sum, and a fault meant for a round's update would otherwise take the bank out of the job
   * before it trains.
   */
  private boolean faultDue(Task task) {
    Stage stage = task.getHeader().getStage();
    if (config.failAtStage() == null || !stageName(stage).equals(config.failAtStage())) {
      return false;
    }
    boolean secureAggregationStage = stage == Stage.SHARE_KEYS || stage == Stage.MASKED_INPUT
        || stage == Stage.CONSISTENCY_CHECK || stage == Stage.UNMASKING;
    return !secureAggregationStage || task.getHeader().getRound() > 0;
  }

  /**
   * Fault injection fires once per bank: a marker in the bank's data directory keeps a restarted
   * daemon (as a service manager would restart it) from dying at the same stage again.
   */
  private boolean firstFault(Stage stage) {
    java.nio.file.Path marker = config.dataDir().resolve(".fault-injected-" + stageName(stage));
    try {
      java.nio.file.Files.createDirectories(config.dataDir());
      java.nio.file.Files.createFile(marker);
      return true;
    } catch (java.nio.file.FileAlreadyExistsException e) {
      return false;
    } catch (java.io.IOException e) {
      log.error("fault injection marker {} cannot be written ({}); injecting anyway", marker, e.getMessage());
      return true;
    }
  }

  /** Stage names as used on the command line ({@code masked-input}, {@code train}, ...). */
  public static String stageName(Stage stage) {
    return stage.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
