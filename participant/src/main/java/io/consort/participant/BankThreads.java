package io.consort.participant;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** The bank's own background threads, for work moved off a task's critical path; never a Vert.x event loop. */
final class BankThreads {
  private BankThreads() {}

  /** One daemon thread named {@code name}, running jobs in order; it ends after a minute idle and comes back. */
  static ExecutorService single(String name) {
    ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }
}
