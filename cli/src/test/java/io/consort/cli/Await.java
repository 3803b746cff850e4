package io.consort.cli;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits for an event with a deadline; a missed deadline fails the test saying what did not happen. */
final class Await {
  private Await() {}

  /**
   * The event's value once it happens.
   *
   * @throws AssertionError naming {@code what} if it has not happened within {@code timeout}
   * @throws Exception the event's own failure
   */
  static <T> T within(Duration timeout, String what, CompletionStage<T> event) throws Exception {
    try {
      return event.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what + ", in vain", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** {@link #within(Duration, String, CompletionStage)} for a Vert.x future. */
  static <T> T within(Duration timeout, String what, io.vertx.core.Future<T> event) throws Exception {
    return within(timeout, what, event.toCompletionStage());
  }
}
