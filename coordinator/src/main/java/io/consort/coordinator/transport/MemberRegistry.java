package io.consort.coordinator.transport;

import io.vertx.core.Vertx;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/** The banks that have enrolled, keyed by the identity in their certificate. Event-loop only. */
public final class MemberRegistry implements Members {
  private final Vertx vertx;
  private final Map<String, Mailbox> mailboxes = new LinkedHashMap<>();
  private final Map<String, java.security.cert.X509Certificate> certificates = new LinkedHashMap<>();
  private final java.util.List<Consumer<String>> enrolmentListeners = new java.util.ArrayList<>();
  private final java.util.List<Consumer<String>> disconnectListeners = new java.util.ArrayList<>();
  private final java.util.Set<String> disconnected = new java.util.HashSet<>();
  private final Map<String, Object> currentConnection = new java.util.HashMap<>();

  public MemberRegistry(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Records an enrolment (or re-enrolment after a restart) and tells the listeners. */
  public void enrol(String memberId, java.security.cert.X509Certificate certificate) {
    mailboxes.computeIfAbsent(memberId, id -> new Mailbox(vertx));
    disconnected.remove(memberId);
    if (certificate != null) {
      certificates.put(memberId, certificate);
    }
    enrolmentListeners.forEach(l -> l.accept(memberId));
  }

  @Override
  public void post(String memberId, io.consort.protocol.v1.Task task) {
    mailbox(memberId).post(task);
  }

  @Override
  public void withdraw(String memberId, io.consort.protocol.v1.Header header) {
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
  public java.util.Optional<java.security.cert.X509Certificate> certificate(String memberId) {
    return java.util.Optional.ofNullable(certificates.get(memberId));
  }

  /**
   * The bank's connection closed (its process died or it shut down). It stays a member, but stages
   * stop waiting for it until it enrols again.
   */
  public void disconnected(String memberId, Object connection) {
    if (connection != currentConnection.get(memberId)) {
      return; // an older connection of a bank that has since reconnected
    }
    if (mailboxes.containsKey(memberId) && disconnected.add(memberId)) {
      disconnectListeners.forEach(l -> l.accept(memberId));
    }
  }

  /** The bank is polling on {@code connection}: it is live, and that connection is its current one. */
  public void polling(String memberId, Object connection) {
    if (mailboxes.containsKey(memberId)) {
      currentConnection.put(memberId, connection);
      disconnected.remove(memberId);
    }
  }

  /** Whether the bank has a live connection (it enrolled and its connection has not closed since). */
  @Override
  public boolean isConnected(String memberId) {
    return mailboxes.containsKey(memberId) && !disconnected.contains(memberId);
  }

  public void onDisconnect(Consumer<String> listener) {
    disconnectListeners.add(listener);
  }

  public void onEnrolment(Consumer<String> listener) {
    enrolmentListeners.add(listener);
  }
}
