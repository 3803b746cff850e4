package io.consort.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RefusalLogTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger("refusal-log-test");
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  private final AtomicLong now = new AtomicLong();

  RefusalLogTest() {
    lines.start();
    logger.addAppender(lines);
  }

  @Test
  void aFloodOfRefusals_writesOnlyTheBurst_thenSaysHowManyItDropped() {
    RefusalLog log = new RefusalLog(logger, 10, 2, now::get);
    int written = 0;
    for (int i = 0; i < 100_000; i++) {
      written += log.refused("10.0.0.9:4000", "TLS handshake", "Empty client certificate chain") ? 1 : 0;
    }
    assertEquals(10, written);
    assertEquals(10, lines.list.size());
    assertEquals(99_990, log.dropped());
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(500)); // one token back at 2 a second
    assertTrue(log.refused("10.0.0.9:4000", "TLS handshake", "again"));
    assertTrue(lines.list.get(10).getFormattedMessage().contains("99990 earlier refusals were not logged"),
        lines.list.get(10).getFormattedMessage());
    assertFalse(log.refused("10.0.0.9:4000", "TLS handshake", "too soon"));
  }

  @Test
  void whatAPeerSent_cannotSplitOrForgeALine() {
    RefusalLog log = new RefusalLog(logger, 10, 2, now::get);
    log.refused("bank-1\nINFO forged", "call", "job '" + "x".repeat(10_000) + "\r\n\u202e'");
    String line = lines.list.get(0).getFormattedMessage();
    assertFalse(line.contains("\n") || line.contains("\r") || line.contains("\u202e"), line);
    assertTrue(line.contains("\\u000a") && line.length() < 1200, line);
  }
}
