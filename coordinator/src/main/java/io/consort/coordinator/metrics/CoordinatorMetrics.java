package io.consort.coordinator.metrics;

import io.consort.coordinator.job.Dropout;
import io.consort.coordinator.job.RoundRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * What the coordinator exposes to Prometheus ({@code GET /metrics} on the operator API): the jobs
 * by state, rounds completed and aborted, round duration, banks per round, dropouts by stage, each
 * bank's cumulative epsilon as the ledger records it, and, when the Vert.x instance was built with
 * {@link #vertx}, Vert.x's own meters (bytes read and written by the servers, connections, requests).
 *
 * <p>Only counts, durations and the ledger's public epsilons are recorded: never a key, a share, a
 * model or an update. Bank names are labels (a consortium has a handful of members).
 */
public final class CoordinatorMetrics {
  private final PrometheusMeterRegistry registry;
  private final Map<String, AtomicLong> jobsByState = new ConcurrentHashMap<>();
  private final Map<String, Double> recordEpsilon = new ConcurrentHashMap<>();
  private final Map<String, Double> bankEpsilon = new ConcurrentHashMap<>();
  private final Map<String, Integer> lastRound = new ConcurrentHashMap<>();
  private final Timer roundDuration;
  private final DistributionSummary banksPerRound;

  public CoordinatorMetrics() {
    this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  public CoordinatorMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    this.roundDuration = Timer.builder("consort.round.duration").description("wall-clock duration of a round")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(100))
        .maximumExpectedValue(Duration.ofMinutes(30)).register(registry);
    this.banksPerRound = DistributionSummary.builder("consort.round.banks")
        .description("banks whose update made it into a round's aggregate").register(registry);
  }

  /**
   * A Vert.x instance whose servers and clients report to {@code registry} (bytes in and out,
   * connections, requests), with labels that do not name remote addresses.
   */
  public static Vertx vertx(PrometheusMeterRegistry registry) {
    return Vertx.builder().with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
        .setJvmMetricsEnabled(true))).withMetrics(new MicrometerMetricsFactory(registry)).build();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  /**
   * Counts the jobs in each state; {@code counts} is asked at every scrape (on the caller's thread),
   * and held strongly (Micrometer holds a gauge's state weakly by default).
   */
  public void jobsByState(Supplier<Map<String, Long>> counts) {
    for (String state : new String[] {"queued", "waiting", "running", "completed", "failed", "cancelled"}) {
      Gauge.builder("consort.jobs", counts, c -> c.get().getOrDefault(state, 0L)).tag("state", state)
          .description("jobs by state").strongReference(true).register(registry);
    }
  }

  /** The banks with a live session; {@code connected} is asked at every scrape (on the caller's thread). */
  public void banksConnected(Supplier<Integer> connected) {
    Gauge.builder("consort.banks.connected", connected, c -> c.get()).description("banks with a live session")
        .strongReference(true).register(registry);
  }

  public void jobSubmitted() {
    Counter.builder("consort.jobs.submitted").description("jobs queued").register(registry).increment();
  }

  /** One recorded round of {@code jobId}. */
  public void round(String jobId, RoundRecord record) {
    Counter.builder("consort.rounds").tag("outcome", record.completed() ? "completed" : "aborted")
        .description("rounds by outcome").register(registry).increment();
    roundDuration.record(Duration.ofMillis(Math.round(record.seconds() * 1000)));
    if (record.completed()) {
      banksPerRound.record(record.participants().size());
    }
    for (Dropout d : record.dropouts()) {
      Counter.builder("consort.dropouts").tag("stage", d.stage()).description("banks dropped from a round, by stage")
          .register(registry).increment();
    }
    for (String bank : record.participants()) {
      if (lastRound.put(bank, record.round()) == null) {
        Gauge.builder("consort.bank.last.round", lastRound, v -> v.getOrDefault(bank, 0)).tag("bank", bank)
            .description("the last round a bank's update was part of").register(registry);
      }
    }
    record.release().ifPresent(r -> {
      r.epsilon().forEach((bank, eps) -> epsilon(recordEpsilon, "record", bank, eps));
      r.bankEpsilon().forEach((bank, eps) -> epsilon(bankEpsilon, "bank", bank, eps));
    });
  }

  /** A bank's cumulative epsilon as the ledger's latest entry naming it records it (all jobs). */
  public void ledgerTotal(String bank, Double record, Double bankLevel) {
    if (record != null) {
      epsilon(recordEpsilon, "record", bank, record);
    }
    if (bankLevel != null) {
      epsilon(bankEpsilon, "bank", bank, bankLevel);
    }
  }

  private void epsilon(Map<String, Double> values, String unit, String bank, double value) {
    if (values.put(bank, value) == null) {
      Gauge.builder("consort.bank.epsilon.spent", values, v -> v.getOrDefault(bank, 0.0)).tag("bank", bank)
          .tag("unit", unit).description("a bank's cumulative epsilon in the privacy ledger, across all jobs")
          .register(registry);
    }
  }
}
