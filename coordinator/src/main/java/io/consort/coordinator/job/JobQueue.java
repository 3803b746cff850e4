package io.consort.coordinator.job;

import io.consort.coordinator.store.CoordinatorStore;
import io.consort.coordinator.transport.ResultSink;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.TaskResult;
import io.consort.spec.JobSpecWire;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's jobs: submitted jobs wait in a queue and run one at a time, in the order they
 * were submitted, each with the banks connected when it starts (a bank takes part in each job it
 * accepts; its privacy budget is its own, counted across jobs by its own journal). Every job and its
 * place in the queue is stored before the submission is acknowledged, so a restarted coordinator
 * resumes the job that was running from its last checkpoint and then the rest of the queue.
 *
 * <p>One job at a time is a choice, not a limit of the protocol: every bank would have to train,
 * mask and countersign for several jobs at once, and the secure aggregation of one job must not
 * wait on another's stragglers. Event loop only; blocking work goes to the {@link Workers}.
 */
public final class JobQueue implements ResultSink {
  private static final Logger log = LoggerFactory.getLogger(JobQueue.class);

  /** A request the queue refuses; {@link #status()} is the HTTP status that says why. */
  public static final class RefusedException extends RuntimeException {
    private final int status;

    RefusedException(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** What happens to the jobs, for metrics: a job's new state. */
  public interface Listener {
    void stateChanged(String jobId, String state);
  }

  private static final class Entry {
    final JobPlan plan;
    final JobDefinition definition;
    final Instant submitted;
    String state;
    String reason;
    JobRunner runner;
    boolean stored;

    Entry(JobPlan plan, JobDefinition definition, Instant submitted, String state, String reason, boolean stored) {
      this.plan = plan;
      this.definition = definition;
      this.submitted = submitted;
      this.state = state;
      this.reason = reason;
      this.stored = stored;
    }
  }

  private final CoordinatorStore store;
  private final Workers workers;
  private final Function<JobDefinition, JobRunner> runners;
  private final Map<String, Entry> jobs = new LinkedHashMap<>();
  private final List<Listener> listeners = new ArrayList<>();
  private JobRunner running;
  private String lastStarted;
  private boolean started;
  private boolean stopping;

  public JobQueue(CoordinatorStore store, Workers workers, Function<JobDefinition, JobRunner> runners) {
    this.store = store;
    this.workers = workers;
    this.runners = runners;
  }

  public void listen(Listener listener) {
    listeners.add(listener);
  }

  /**
   * Loads the stored jobs, queues {@code configured} (the job of the coordinator's configuration)
   * when it is not stored yet, and starts the first unfinished job. The configured job, when
   * stored, runs again unless cancelled: once completed, its runner reports its stored result.
   */
  public Future<Void> start(Optional<JobDefinition> configured) {
    return workers.run(store::jobs).compose(rows -> {
      for (CoordinatorStore.JobRow row : rows) {
        restore(row, configured);
      }
      if (configured.isPresent() && !jobs.containsKey(configured.get().jobId())) {
        JobDefinition d = configured.get();
        return enqueue(d).mapEmpty();
      }
      return Future.<Void>succeededFuture();
    }).onSuccess(v -> {
      started = true;
      pump();
    });
  }

  private void restore(CoordinatorStore.JobRow row, Optional<JobDefinition> configured) {
    String id = row.plan().getJobId();
    String state = row.status().toLowerCase(java.util.Locale.ROOT);
    boolean isConfigured = configured.isPresent() && configured.get().jobId().equals(id);
    boolean finished = state.equals("completed") || state.equals("failed") || state.equals("cancelled");
    JobDefinition definition = null;
    String reason = row.reason();
    if (isConfigured) {
      definition = configured.get();
    } else if (row.expectedBanks() != null) {
      try {
        definition = new JobDefinition(JobSpecWire.fromProto(row.plan()), row.expectedBanks(),
            Duration.ofMillis(row.startTimeoutMillis()), Duration.ofMillis(row.stageTimeoutMillis()));
      } catch (IllegalArgumentException e) {
        reason = "the stored job cannot be run again: " + e.getMessage();
        finished = true;
        state = "failed";
      }
    } else if (!finished) {
      // a job of an earlier configuration: its scheduling rules are gone with that file
      state = "failed";
      reason = "stored without its scheduling rules (a job of an earlier configuration); submit it again";
      finished = true;
    }
    boolean runAgain = isConfigured ? !state.equals("cancelled") : !finished;
    jobs.put(id, new Entry(row.plan(), definition, row.createdAt(), runAgain ? "queued" : state, reason, true));
  }

  /**
   * Queues a validated job after every job queued so far; completes once it is stored.
   *
   * @throws RefusedException (in the future) 409 when a job with its id exists, 503 when stopping
   */
  public Future<JsonObject> submit(JobDefinition definition) {
    if (stopping) {
      return Future.failedFuture(new RefusedException(503, "the coordinator is stopping"));
    }
    if (jobs.containsKey(definition.jobId())) {
      return Future.failedFuture(new RefusedException(409, "a job with id '" + definition.jobId() + "' exists already ("
          + jobs.get(definition.jobId()).state + "); job ids are never reused"));
    }
    return enqueue(definition).map(entry -> {
      pump();
      return summary(entry);
    });
  }

  private Future<Entry> enqueue(JobDefinition d) {
    Entry entry = new Entry(d.plan(), d, Instant.now(), "queued", null, false);
    jobs.put(d.jobId(), entry);
    JobPlan plan = d.plan();
    return workers.run(() -> store.queueJob(plan, d.expectedBanks(), d.startTimeout().toMillis(),
            d.stageTimeout().toMillis()))
        .map(seq -> {
          entry.stored = true;
          log.info("job '{}' queued ({} rounds, {} jobs ahead of it)", d.jobId(), d.spec().training().rounds(),
              jobs.values().stream().filter(e -> e != entry && isPending(e)).count());
          notify(d.jobId(), "queued");
          return entry;
        })
        .recover(e -> {
          jobs.remove(d.jobId(), entry);
          return Future.failedFuture(e);
        });
  }

  /**
   * Cancels a queued or running job on behalf of {@code by}.
   *
   * @throws RefusedException (in the future) 404 for an unknown job, 409 for one that has ended
   */
  public Future<JsonObject> cancel(String jobId, String by) {
    Entry entry = jobs.get(jobId);
    if (entry == null) {
      return Future.failedFuture(new RefusedException(404, "no job '" + jobId + "'"));
    }
    if (!isPending(entry) && entry.runner == null || entry.runner != null && entry.runner.outcome().isComplete()) {
      return Future.failedFuture(new RefusedException(409, "job '" + jobId + "' has already ended (" + entry.state
          + ")"));
    }
    String reason = "cancelled by " + by;
    if (entry.runner != null) {
      entry.runner.cancel(reason);
      return entry.runner.settled().map(v -> summary(entry));
    }
    entry.state = "cancelled";
    entry.reason = reason;
    JobPlan plan = entry.plan;
    notify(jobId, "cancelled");
    return workers.run(() -> {
      store.upsertJob(plan, "CANCELLED", reason);
      return summary(entry);
    });
  }

  /** Every job, in the order they were queued: id, state, rounds, and why it ended. */
  public JsonArray list() {
    JsonArray out = new JsonArray();
    jobs.values().forEach(e -> out.add(summary(e)));
    return out;
  }

  /**
   * One job's status: the live view of a job this coordinator ran since it started, or what the
   * store holds of an earlier one (its state and recorded rounds).
   */
  public Future<JsonObject> status(String jobId) {
    Entry entry = jobs.get(jobId);
    if (entry == null) {
      return Future.failedFuture(new RefusedException(404, "no job '" + jobId + "'"));
    }
    if (entry.runner != null) {
      return Future.succeededFuture(entry.runner.status().put("queued_at", entry.submitted.toString()));
    }
    JsonObject summary = summary(entry);
    return workers.run(() -> store.rounds(jobId)).map(rows -> summary.put("rounds", new JsonArray(rows.stream()
        .map(r -> new JsonObject(r.recordJson())).toList())));
  }

  /** The job running now, else the one that ran last, for the operator API's single-job view. */
  public Optional<JobRunner> current() {
    if (running != null) {
      return Optional.of(running);
    }
    return Optional.ofNullable(lastStarted).map(jobs::get).map(e -> e.runner);
  }

  /** A job's result, once it completes; fails when it fails or is cancelled, or is unknown. */
  public Future<JsonObject> outcome(String jobId) {
    Entry entry = jobs.get(jobId);
    if (entry == null || !started && entry.runner == null) {
      return Future.failedFuture(new RefusedException(404, "no job '" + jobId + "' has started"));
    }
    if (entry.runner != null) {
      return entry.runner.outcome();
    }
    return Future.failedFuture(new RefusedException(409, "job '" + jobId + "' is " + entry.state));
  }

  /** The job whose outcome {@code jobId}'s will be, once it starts: waits for it to be started. */
  public Future<JsonObject> eventualOutcome(String jobId) {
    Entry entry = jobs.get(jobId);
    if (entry != null && entry.runner != null) {
      return entry.runner.outcome();
    }
    if (entry != null && !isPending(entry)) {
      return Future.failedFuture(new RefusedException(409, "job '" + jobId + "' is " + entry.state
          + (entry.reason == null ? "" : ": " + entry.reason)));
    }
    io.vertx.core.Promise<JsonObject> promise = io.vertx.core.Promise.promise();
    listen((id, state) -> {
      Entry e = jobs.get(jobId);
      if (id.equals(jobId) && e != null && e.runner != null) {
        e.runner.outcome().onComplete(promise);
      } else if (id.equals(jobId) && state.equals("cancelled")) {
        promise.tryFail(new JobCancelledException("job '" + jobId + "' was cancelled"));
      }
    });
    return promise.future();
  }

  @Override
  public void accept(String memberId, TaskResult result) {
    if (running == null) {
      throw new ProtocolViolationException("result for job '" + result.getHeader().getJobId()
          + "' arrived while no job is running");
    }
    running.accept(memberId, result);
  }

  /**
   * Stops starting jobs and halts the running one where it is (it resumes at the next start);
   * completes when its work in flight has ended, so the store can be closed after it.
   */
  public Future<Void> stop() {
    stopping = true;
    return running == null ? Future.succeededFuture() : running.halt();
  }

  private void pump() {
    if (!started || stopping || running != null) {
      return;
    }
    Entry next = jobs.values().stream().filter(e -> e.stored && e.state.equals("queued")).findFirst().orElse(null);
    if (next == null) {
      return;
    }
    String id = next.definition.jobId();
    JobRunner runner = runners.apply(next.definition);
    next.runner = runner;
    next.state = "running";
    running = runner;
    lastStarted = id;
    log.info("job '{}' starts", id);
    notify(id, "running");
    runner.start();
    runner.settled().onComplete(x -> {
      running = null;
      if (runner.outcome().isComplete()) {
        next.state = runner.outcome().succeeded() ? "completed" : runner.isCancelled() ? "cancelled" : "failed";
        next.reason = runner.outcome().failed() ? runner.outcome().cause().getMessage() : null;
        notify(id, next.state);
      }
      pump();
    });
  }

  private static boolean isPending(Entry e) {
    return e.state.equals("queued") || e.state.equals("running");
  }

  private void notify(String jobId, String state) {
    List.copyOf(listeners).forEach(l -> l.stateChanged(jobId, state));
  }

  private JsonObject summary(Entry e) {
    JsonObject out = new JsonObject().put("job_id", e.plan.getJobId()).put("state", e.state)
        .put("rounds_planned", e.plan.getRounds()).put("queued_at", e.submitted.toString());
    if (e.runner != null) {
      JsonObject live = e.runner.status();
      out.put("state", live.getString("state")).put("rounds_done", live.getJsonArray("rounds").size());
    }
    if (e.reason != null) {
      out.put("reason", e.reason);
    }
    return out;
  }
}
