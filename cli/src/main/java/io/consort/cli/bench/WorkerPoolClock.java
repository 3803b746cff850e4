package io.consort.cli.bench;

import io.consort.coordinator.job.WorkerPurpose;
import io.vertx.core.spi.metrics.PoolMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import java.util.ArrayList;
import java.util.List;

/**
 * Vert.x metrics for one Vert.x instance that record when its worker pool ran a task: the
 * coordinator's database, aggregation, secure-aggregation crypto and ledger work all run there
 * ({@code Workers}), so these are the intervals in which the coordinator computed. As the process's
 * {@link WorkerPurpose.Listener} it also records which of that time the coordinator spent on secure
 * aggregation, by the purpose its jobs were submitted with.
 */
final class WorkerPoolClock implements VertxMetrics, WorkerPurpose.Listener {
  private final List<RoundTimeline.Interval> busy = new ArrayList<>();
  private final List<RoundTimeline.Interval> secureAggregation = new ArrayList<>();

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

  @Override
  public void ran(WorkerPurpose purpose, long startNanos, long endNanos) {
    if (purpose == WorkerPurpose.SECURE_AGGREGATION) {
      synchronized (busy) {
        secureAggregation.add(new RoundTimeline.Interval(startNanos, endNanos));
      }
    }
  }

  /** The intervals recorded so far. */
  List<RoundTimeline.Interval> busy() {
    synchronized (busy) {
      return List.copyOf(busy);
    }
  }

  /** The intervals recorded so far in which the workers ran secure aggregation's work. */
  List<RoundTimeline.Interval> secureAggregation() {
    synchronized (busy) {
      return List.copyOf(secureAggregation);
    }
  }
}
