package io.consort.coordinator.job;

import io.vertx.core.Vertx;

/** One-shot timers on the job's event loop; a seam so that deadlines can be tested with a fake clock. */
public interface Timers {
  /** Runs {@code action} on the event loop after {@code delayMillis}; returns an id for {@link #cancel}. */
  long schedule(long delayMillis, Runnable action);

  void cancel(long timerId);

  static Timers of(Vertx vertx) {
    return new Timers() {
      @Override
      public long schedule(long delayMillis, Runnable action) {
        return vertx.setTimer(Math.max(1, delayMillis), id -> action.run());
      }

      @Override
      public void cancel(long timerId) {
        vertx.cancelTimer(timerId);
      }
    };
  }
}
