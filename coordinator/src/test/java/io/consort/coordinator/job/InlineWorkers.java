package io.consort.coordinator.job;

import io.vertx.core.Future;
import java.util.concurrent.Callable;

/** Runs "blocking" work at once on the caller's thread, so tests drive a job step by step. */
final class InlineWorkers implements Workers {
  @Override
  public <T> Future<T> run(Callable<T> work) {
    try {
      return Future.succeededFuture(work.call());
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
  }
}
