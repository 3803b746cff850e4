package io.consort.coordinator;

import java.time.Duration;
import java.util.Objects;

/**
 * The limits the coordinator's TLS servers hold every connection to, against slow (Slowloris) and
 * flooding (HTTP/2 rapid reset) peers. docs/THREAT_MODEL.md states what each one bounds.
 *
 * @param tlsHandshakeTimeout a connection that has not finished its TLS handshake by then is closed
 *     (an unauthenticated peer holds a socket at most this long)
 * @param idleTimeout a connection with no traffic in either direction for this long is closed
 *     (sessions are kept alive by the coordinator's PINGs, so only abandoned connections idle)
 * @param maxConcurrentStreams HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: calls open at once on one
 *     connection (a bank needs two: its poll and a result)
 * @param rstFloodMaxFrames RST_STREAM frames a client may send within {@code rstFloodWindow}
 *     before the connection is closed with GOAWAY ENHANCE_YOUR_CALM (CVE-2023-44487)
 * @param rstFloodWindow the window of {@code rstFloodMaxFrames}
 * @param maxHeaderListBytes HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE
 * @param messageTimeout a call that has not delivered its one message by then is answered
 *     DEADLINE_EXCEEDED (a stream trickling bytes holds nothing for longer)
 * @param keepAliveInterval how often each bank's session connection is PINGed
 * @param pingTimeout a session connection that does not answer a PING within this is closed, and
 *     a second connection with the same certificate takes the session over
 * @param maxPoll the longest a long-poll is held, whatever the bank asks
 */
public record ServerLimits(Duration tlsHandshakeTimeout, Duration idleTimeout, int maxConcurrentStreams,
                           int rstFloodMaxFrames, Duration rstFloodWindow, int maxHeaderListBytes,
                           Duration messageTimeout, Duration keepAliveInterval, Duration pingTimeout,
                           Duration maxPoll) {
  public ServerLimits {
    Objects.requireNonNull(tlsHandshakeTimeout, "tlsHandshakeTimeout");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(rstFloodWindow, "rstFloodWindow");
    Objects.requireNonNull(messageTimeout, "messageTimeout");
    Objects.requireNonNull(keepAliveInterval, "keepAliveInterval");
    Objects.requireNonNull(pingTimeout, "pingTimeout");
    Objects.requireNonNull(maxPoll, "maxPoll");
    if (maxConcurrentStreams < 2) {
      throw new IllegalArgumentException("maxConcurrentStreams must be at least 2 (a bank's poll and its result),"
          + " got " + maxConcurrentStreams);
    }
    if (rstFloodMaxFrames < 1 || maxHeaderListBytes < 1024) {
      throw new IllegalArgumentException("rstFloodMaxFrames must be positive and maxHeaderListBytes at least 1024,"
          + " got " + rstFloodMaxFrames + " and " + maxHeaderListBytes);
    }
    if (pingTimeout.compareTo(keepAliveInterval) >= 0 || keepAliveInterval.compareTo(idleTimeout) >= 0) {
      throw new IllegalArgumentException("need pingTimeout < keepAliveInterval < idleTimeout, got " + pingTimeout
          + ", " + keepAliveInterval + ", " + idleTimeout);
    }
  }

  /** The limits in production. */
  public static ServerLimits defaults() {
    // a long-poll is held 25 s at most: well under the usual idle timeouts of proxies and NATs
    return new ServerLimits(Duration.ofSeconds(10), Duration.ofSeconds(120), 16, 100, Duration.ofSeconds(30), 8192,
        Duration.ofSeconds(120), Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(25));
  }

  /** The same limits with other keep-alive timing (tests use short ones). */
  public ServerLimits withKeepAlive(Duration interval, Duration timeout) {
    return new ServerLimits(tlsHandshakeTimeout, idleTimeout, maxConcurrentStreams, rstFloodMaxFrames, rstFloodWindow,
        maxHeaderListBytes, messageTimeout, interval, timeout, maxPoll);
  }

  /** The same limits with another TLS handshake timeout. */
  public ServerLimits withTlsHandshakeTimeout(Duration timeout) {
    return new ServerLimits(timeout, idleTimeout, maxConcurrentStreams, rstFloodMaxFrames, rstFloodWindow,
        maxHeaderListBytes, messageTimeout, keepAliveInterval, pingTimeout, maxPoll);
  }

  /** The same limits with another message timeout. */
  public ServerLimits withMessageTimeout(Duration timeout) {
    return new ServerLimits(tlsHandshakeTimeout, idleTimeout, maxConcurrentStreams, rstFloodMaxFrames, rstFloodWindow,
        maxHeaderListBytes, timeout, keepAliveInterval, pingTimeout, maxPoll);
  }

  /** The same limits with another longest long-poll. */
  public ServerLimits withMaxPoll(Duration poll) {
    return new ServerLimits(tlsHandshakeTimeout, idleTimeout, maxConcurrentStreams, rstFloodMaxFrames, rstFloodWindow,
        maxHeaderListBytes, messageTimeout, keepAliveInterval, pingTimeout, poll);
  }
}
