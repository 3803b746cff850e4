package io.consort.cli.bench;

import io.vertx.core.spi.metrics.PoolMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import java.util.ArrayList;
import java.util.List;

/**
 * Vert.x metrics for one Vert.x instance that record when its worker pool ran a task: the
 * coordinator's database, aggregation, secure-aggregation crypto and ledger work all run there
 * ({@code Workers}), so these are the intervals in which the coordinator computed.
 */
final class WorkerPoolClock implements VertxMetrics {
  private final List<RoundTimeline.Interval> busy = new ArrayList<>();

  @Override
  public PoolMetrics<?, ?> createPoolMetrics(String poolType, String poolName, int maxPoolSize) {
    if (!"worker".equals(poolType)) {
      return null;
    }
    return new PoolMetrics<Void, Long>() {
      @Override
      public Long begin() {
        return System.nanoTime();
      }

      @Override
      public void end(Long started) {
        long ended = System.nanoTime();
        synchronized (busy) {
          busy.add(new RoundTimeline.Interval(started, ended));
        }
      }
    };
  }

  /** The intervals recorded so far. */
  List<RoundTimeline.Interval> busy() {
    synchronized (busy) {
      return List.copyOf(busy);
    }
  }
}
