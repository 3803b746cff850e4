package io.consort.coordinator.transport;

import io.consort.protocol.v1.Header;
import io.consort.protocol.v1.Task;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;

/**
 * What a job needs of the enrolled banks: who is there, who is connected, their certificates, and a
 * way to hand them tasks. {@link MemberRegistry} implements it on the event loop; tests use fakes.
 */
public interface Members {
  Set<String> members();

  boolean isEnrolled(String memberId);

  /** Enrolled, and its connection has not closed since. */
  boolean isConnected(String memberId);

  /** The certificate the bank presented when it last enrolled. */
  Optional<X509Certificate> certificate(String memberId);

  /** Queues a task for the bank's next poll. */
  void post(String memberId, Task task);

  /** Removes the bank's undelivered tasks of a stage that has closed. */
  void withdraw(String memberId, Header header);
}
