package io.consort.coordinator.job;

import java.util.concurrent.Callable;

/**
 * What a coordinator worker job (or a part of one) is for: secure aggregation's crypto and bookkeeping
 * (the sum's plan, relaying keys and shares, accepting masked inputs, unmasking, decoding the sum) or the
 * coordinator's own work (everything else: the model update, the round's record, the ledger, the next
 * tasks). {@code consort bench round} charges the coordinator's worker time by this purpose, wherever in
 * the round the work happens. Only a benchmark {@link #listen listens}; without a listener a job runs
 * exactly as it was given, nothing wrapped and nothing timed.
 */
public enum WorkerPurpose {
  COORDINATOR, SECURE_AGGREGATION;

  /** Told, on the worker thread, each span of worker time spent for a purpose ({@link System#nanoTime()}). */
  @FunctionalInterface
  public interface Listener {
    void ran(WorkerPurpose purpose, long startNanos, long endNanos);
  }

  private static volatile Listener listener;

  /** Installs this process's listener (a benchmark's); {@code null} removes it. */
  public static void listen(Listener l) {
    listener = l;
  }

  /** {@code work}, timed for the listener when one is installed now; {@code work} itself otherwise. */
  <T> Callable<T> timed(Callable<T> work) {
    Listener l = listener;
    if (l == null) {
      return work;
    }
    return () -> {
      long start = System.nanoTime();
      try {
        return work.call();
      } finally {
        l.ran(this, start, System.nanoTime());
      }
    };
  }

  /** Runs {@code part} of a worker job that serves another purpose, timed for the listener when there is one. */
  void run(Runnable part) {
    Listener l = listener;
    if (l == null) {
      part.run();
      return;
    }
    long start = System.nanoTime();
    try {
      part.run();
    } finally {
      l.ran(this, start, System.nanoTime());
    }
  }
}
