package io.consort.coordinator.transport;

import io.consort.identity.CertificateRejectedException;
import io.consort.identity.CertificateValidator;
import io.consort.identity.Role;
import io.consort.protocol.v1.Header;
import io.consort.protocol.v1.Task;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The banks that have enrolled, keyed by the identity in their certificate, and the one session
 * each holds. Event-loop only.
 *
 * <p><b>One session per identity.</b> A bank's session is the HTTP/2 connection it calls on. A call
 * on another connection with the same certificate is a second session: if the connection holding
 * the session still answers an HTTP/2 PING within the probe timeout, the holder keeps it and the
 * newcomer is refused (and logged: either the bank runs twice or its key is in other hands); if the
 * holder does not answer, it is closed and the newcomer takes the session over (a bank that
 * restarted while its old connection lingered half-open). A session's connection is also PINGed
 * every keep-alive interval; one that does not answer is closed, so a bank whose link died shows
 * as disconnected and stages stop waiting for it.
 */
public final class MemberRegistry implements Members {
  private static final Logger log = LoggerFactory.getLogger(MemberRegistry.class);

  private final Vertx vertx;
  private final Duration probeTimeout;
  private final Map<String, Mailbox> mailboxes = new LinkedHashMap<>();
  private final Map<String, X509Certificate> certificates = new LinkedHashMap<>();
  private final List<Consumer<String>> enrolmentListeners = new ArrayList<>();
  private final List<Consumer<String>> disconnectListeners = new ArrayList<>();
  private final Map<String, Session> sessions = new HashMap<>();
  private long keepAliveTimer = -1;

  /** The connection a bank's session runs on. */
  private static final class Session {
    final HttpConnection connection;
    final String remote;
    final Instant since = Instant.now();
    /** When the holder last answered a probe (System.nanoTime), or 0. */
    long answeredAt;
    Future<Boolean> probe;

    Session(HttpConnection connection) {
      this.connection = connection;
      this.remote = String.valueOf(connection.remoteAddress());
    }
  }

  public MemberRegistry(Vertx vertx) {
    this(vertx, Duration.ofSeconds(5));
  }

  /** @param probeTimeout how long a session's connection has to answer a PING before it counts as gone */
  public MemberRegistry(Vertx vertx, Duration probeTimeout) {
    this.vertx = vertx;
    this.probeTimeout = probeTimeout;
  }

  /** A second session for an identity that already has a live one. */
  public static final class SecondSessionException extends RuntimeException {
    SecondSessionException(String message) {
      super(message);
    }
  }

  /**
   * Makes {@code connection} the session of {@code memberId}, by the rule above.
   *
   * @return succeeds when the connection holds the session; fails with a
   *     {@link SecondSessionException} naming both connections when another live one holds it
   */
  public Future<Void> claim(String memberId, HttpConnection connection) {
    Session held = sessions.get(memberId);
    if (held != null && held.connection == connection) {
      return Future.succeededFuture();
    }
    if (held == null) {
      adopt(memberId, connection);
      return Future.succeededFuture();
    }
    if (held.answeredAt != 0 && System.nanoTime() - held.answeredAt < probeTimeout.toNanos()) {
      return Future.failedFuture(secondSession(memberId, held, connection));
    }
    if (held.probe == null) {
      held.probe = probe(held).onComplete(ar -> held.probe = null);
    }
    return held.probe.compose(alive -> {
      Session now = sessions.get(memberId);
      if (now != held) {
        return claim(memberId, connection); // the holder left (or was replaced) while it was probed
      }
      if (alive) {
        return Future.failedFuture(secondSession(memberId, held, connection));
      }
      log.warn("bank '{}': its session's connection from {} did not answer a PING within {} ms; closing it and"
          + " handing the session to the connection from {}", memberId, held.remote, probeTimeout.toMillis(),
          connection.remoteAddress());
      end(memberId, held);
      held.connection.close();
      adopt(memberId, connection);
      return Future.succeededFuture();
    });
  }

  /** Whether {@code connection} holds {@code memberId}'s session. */
  public boolean holdsSession(String memberId, HttpConnection connection) {
    Session s = sessions.get(memberId);
    return s != null && s.connection == connection;
  }

  private SecondSessionException secondSession(String memberId, Session held, HttpConnection newcomer) {
    return new SecondSessionException("bank '" + memberId + "' already has a live session (connection from "
        + held.remote + " since " + held.since + "); a second connection with the same certificate (from "
        + newcomer.remoteAddress() + ") is refused. If the bank did not open it, its key is in other hands:"
        + " revoke the certificate");
  }

  private void adopt(String memberId, HttpConnection connection) {
    Session s = new Session(connection);
    sessions.put(memberId, s);
    // a bank that vanishes (process exit, network loss) closes its connection: stages stop waiting for it
    connection.closeHandler(v -> {
      if (sessions.get(memberId) == s) {
        log.info("bank '{}' disconnected (connection from {})", memberId, s.remote);
        end(memberId, s);
      }
    });
  }

  /** Ends a session: its open poll answers nothing more, and the job hears that the bank left. */
  private void end(String memberId, Session s) {
    if (sessions.get(memberId) != s) {
      return;
    }
    sessions.remove(memberId);
    Mailbox box = mailboxes.get(memberId);
    if (box != null) {
      box.cancelWaiting();
      disconnectListeners.forEach(l -> l.accept(memberId));
    }
  }

  /** Completes with whether the session's connection answered a PING within the probe timeout. */
  private Future<Boolean> probe(Session s) {
    Promise<Boolean> answered = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, probeTimeout.toMillis()), t -> answered.tryComplete(false));
    try {
      s.connection.ping(Buffer.buffer(new byte[8])).onComplete(ar -> {
        vertx.cancelTimer(timer);
        if (ar.succeeded()) {
          s.answeredAt = System.nanoTime();
        }
        answered.tryComplete(ar.succeeded());
      });
    } catch (RuntimeException e) {
      vertx.cancelTimer(timer);
      answered.tryComplete(false);
    }
    return answered.future();
  }

  /**
   * PINGs every session's connection each {@code interval}; a connection that does not answer within
   * the probe timeout is closed and its bank counts as disconnected.
   */
  public void keepAlive(Duration interval) {
    if (keepAliveTimer >= 0) {
      vertx.cancelTimer(keepAliveTimer);
    }
    keepAliveTimer = vertx.setPeriodic(interval.toMillis(), t -> {
      for (Map.Entry<String, Session> e : List.copyOf(sessions.entrySet())) {
        Session s = e.getValue();
        if (s.probe != null) {
          continue;
        }
        s.probe = probe(s).onComplete(ar -> {
          s.probe = null;
          if (!ar.result() && sessions.get(e.getKey()) == s) {
            log.warn("bank '{}': its connection from {} did not answer a PING within {} ms; closing it", e.getKey(),
                s.remote, probeTimeout.toMillis());
            end(e.getKey(), s);
            s.connection.close();
          }
        });
      }
    });
  }

  /** Stops the keep-alive PINGs. */
  public void stopKeepAlive() {
    if (keepAliveTimer >= 0) {
      vertx.cancelTimer(keepAliveTimer);
      keepAliveTimer = -1;
    }
  }

  /** Records an enrolment (or re-enrolment after a restart) and tells the listeners. */
  public void enrol(String memberId, X509Certificate certificate) {
    mailboxes.computeIfAbsent(memberId, id -> new Mailbox(vertx));
    if (certificate != null) {
      certificates.put(memberId, certificate);
    }
    enrolmentListeners.forEach(l -> l.accept(memberId));
  }

  /**
   * Removes every member whose certificate {@code validator} now refuses (revoked, expired): it no
   * longer counts as a member, its connection is closed and stages stop waiting for it. Its
   * certificate stays on record for the ledger entries it signed before.
   *
   * @return the members removed
   */
  public List<String> expelRejected(CertificateValidator validator) {
    List<String> expelled = new ArrayList<>();
    for (String m : List.copyOf(mailboxes.keySet())) {
      X509Certificate certificate = certificates.get(m);
      if (certificate == null) {
        continue;
      }
      try {
        validator.validate(certificate, Role.PARTICIPANT);
      } catch (CertificateRejectedException e) {
        log.warn("bank '{}' is no longer a member: {}; its connection is closed", m, e.getMessage());
        Session s = sessions.remove(m);
        mailboxes.remove(m).cancelWaiting();
        if (s != null) {
          s.connection.close();
        }
        disconnectListeners.forEach(l -> l.accept(m));
        expelled.add(m);
      }
    }
    return expelled;
  }

  @Override
  public void post(String memberId, Task task) {
    mailbox(memberId).post(task);
  }

  @Override
  public void withdraw(String memberId, Header header) {
    Mailbox box = mailboxes.get(memberId);
    if (box != null) {
      box.withdraw(header);
    }
  }

  @Override
  public boolean isEnrolled(String memberId) {
    return mailboxes.containsKey(memberId);
  }

  @Override
  public Set<String> members() {
    return Collections.unmodifiableSet(mailboxes.keySet());
  }

  /** @throws IllegalStateException if the member never enrolled */
  public Mailbox mailbox(String memberId) {
    Mailbox box = mailboxes.get(memberId);
    if (box == null) {
      throw new IllegalStateException("member '" + memberId + "' has not enrolled");
    }
    return box;
  }

  /** The certificate the member presented when it last enrolled (for the privacy ledger's export). */
  @Override
  public Optional<X509Certificate> certificate(String memberId) {
    return Optional.ofNullable(certificates.get(memberId));
  }

  /** Whether the bank is a member with a live session (its connection has not closed). */
  @Override
  public boolean isConnected(String memberId) {
    return mailboxes.containsKey(memberId) && sessions.containsKey(memberId);
  }

  public void onDisconnect(Consumer<String> listener) {
    disconnectListeners.add(listener);
  }

  public void onEnrolment(Consumer<String> listener) {
    enrolmentListeners.add(listener);
  }
}
