package io.consort.cli;

import io.vertx.core.Future;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** SIGTERM handling shared by the long-running commands: stop cleanly, but never hang the JVM's exit. */
final class Shutdown {
  private Shutdown() {}

  /**
   * On JVM shutdown, runs {@code stop} and waits for it at most 10 s (it must not be waited on from
   * an event-loop thread, which is why fault injection halts instead of exiting), then releases
   * {@code done}.
   */
  static void onSigterm(String what, Supplier<Future<?>> stop, CountDownLatch done) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        stop.get().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println(what + " did not stop cleanly within 10 s: " + e);
      }
      done.countDown();
    }, "consort-shutdown"));
  }
}
