package io.consort.coordinator.job;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.Callable;

/**
 * Where a job's blocking work runs (database, aggregation, model arithmetic, secure-aggregation
 * crypto): never on the event loop. The Vert.x form runs tasks one after another on worker threads
 * (ordered, so the ledger and the store see one writer) and completes on the caller's event loop.
 */
public interface Workers {
  <T> Future<T> run(Callable<T> work);

  /** {@link #run} for {@code purpose}: what a benchmark charges the job's time to ({@link WorkerPurpose}). */
  default <T> Future<T> run(WorkerPurpose purpose, Callable<T> work) {
    return run(purpose.timed(work));
  }

  static Workers of(Vertx vertx) {
    return new Workers() {
      @Override
      public <T> Future<T> run(Callable<T> work) {
        return vertx.executeBlocking(work, true);
      }
    };
  }
}
