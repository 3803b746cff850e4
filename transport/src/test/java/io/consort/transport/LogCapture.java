package io.consort.transport;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/**
 * The formatted lines one logger writes while a test runs; a test can wait for a line to appear.
 * Shared with the coordinator's and the participant's tests through this module's test jar.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private final Logger logger;
  private final List<String> lines = new ArrayList<>();
  private final List<Waiter> waiters = new ArrayList<>();

  private record Waiter(Predicate<String> matches, CompletableFuture<String> found) {}

  public LogCapture(String loggerName) {
    logger = (Logger) LoggerFactory.getLogger(loggerName);
    setContext(logger.getLoggerContext());
    start();
    logger.addAppender(this);
  }

  @Override
  protected synchronized void append(ILoggingEvent event) {
    String line = event.getFormattedMessage();
    lines.add(line);
    waiters.removeIf(w -> w.matches.test(line) && w.found.complete(line));
  }

  public synchronized List<String> lines() {
    return List.copyOf(lines);
  }

  /** The first line (already written or to come within 20 s) that {@code matches}. */
  public String await(Predicate<String> matches, String what) throws Exception {
    CompletableFuture<String> found = new CompletableFuture<>();
    synchronized (this) {
      for (String line : lines) {
        if (matches.test(line)) {
          return line;
        }
      }
      waiters.add(new Waiter(matches, found));
    }
    try {
      return found.get(20, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no log line " + what + " within 20 s; lines: " + lines());
    }
  }

  @Override
  public void close() {
    logger.detachAppender(this);
    stop();
  }
}
