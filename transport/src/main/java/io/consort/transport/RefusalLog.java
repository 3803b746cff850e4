package io.consort.transport;

import io.consort.protocol.WireText;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * One warning line per refusal, naming the peer, what was refused and why, rate-limited so that a
 * peer who provokes refusals as fast as it can cannot fill the disk: a token bucket allows bursts
 * of {@code burst} lines and then {@code perSecond} lines a second; the refusals it drops are
 * counted, and the next line that is written says how many were not logged. Every argument is
 * passed through {@link WireText#quote}-style escaping, so no line can be split or forged by what
 * a peer sent. Thread-safe (TLS handshakes fail on Netty's threads, calls on the event loop).
 */
public final class RefusalLog {
  private final Logger log;
  private final double burst;
  private final double perNano;
  private final LongSupplier nanoTime;
  private double tokens;
  private long last;
  private long dropped;

  public RefusalLog(Logger log, int burst, double perSecond) {
    this(log, burst, perSecond, System::nanoTime);
  }

  RefusalLog(Logger log, int burst, double perSecond, LongSupplier nanoTime) {
    if (burst < 1 || !(perSecond > 0)) {
      throw new IllegalArgumentException("burst must be at least 1 and perSecond positive, got " + burst + ", "
          + perSecond);
    }
    this.log = log;
    this.burst = burst;
    this.perNano = perSecond / TimeUnit.SECONDS.toNanos(1);
    this.nanoTime = nanoTime;
    this.tokens = burst;
    this.last = nanoTime.getAsLong();
  }

  /** A refusal log with the defaults: bursts of 50 lines, then 5 a second. */
  public static RefusalLog of(Logger log) {
    return new RefusalLog(log, 50, 5);
  }

  /**
   * Logs one refusal, unless the rate limit is exhausted.
   *
   * @param peer who was refused: an address, a member name, or both
   * @param what what was refused ("TLS handshake", "call /consort.v1.Federation/Enrol")
   * @param reason why, in words; may hold text a peer sent, which is escaped
   * @return whether the line was written
   */
  public boolean refused(String peer, String what, String reason) {
    long droppedBefore;
    synchronized (this) {
      long now = nanoTime.getAsLong();
      tokens = Math.min(burst, tokens + (now - last) * perNano);
      last = now;
      if (tokens < 1) {
        dropped++;
        return false;
      }
      tokens -= 1;
      droppedBefore = dropped;
      dropped = 0;
    }
    if (droppedBefore > 0) {
      log.warn("refused {} from {}: {} ({} earlier refusals were not logged: rate limit)", safe(what), safe(peer),
          safe(reason), droppedBefore);
    } else {
      log.warn("refused {} from {}: {}", safe(what), safe(peer), safe(reason));
    }
    return true;
  }

  /** How many refusals were not logged since the last line that was. */
  public synchronized long dropped() {
    return dropped;
  }

  /** Escapes what {@link WireText} forbids and bounds the length, without quotes. */
  static String safe(String text) {
    if (text == null) {
      return "(none)";
    }
    StringBuilder out = new StringBuilder(Math.min(text.length(), 600));
    int n = Math.min(text.length(), 500);
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
          || Character.getType(c) == Character.LINE_SEPARATOR || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    if (text.length() > n) {
      out.append("... (").append(text.length()).append(" characters)");
    }
    return out.toString();
  }
}
