package io.consort.coordinator.job;

import io.consort.identity.IdentityVerifier;
import io.consort.coordinator.store.CoordinatorStore;
import io.consort.coordinator.transport.MemberRegistry;
import io.consort.coordinator.transport.ResultSink;
import io.consort.protocol.Headers;
import io.consort.protocol.v1.JobFinished;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.spec.JobSpec;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One federated job's lifecycle on the coordinator's event loop: wait for banks, offer the job,
 * merge federated feature statistics (or restore from the last checkpoint), run the rounds, publish
 * the final model. Each round's updates are gathered by a {@link RoundProtocol}, applied by the
 * {@link ServerUpdateRule}, entered in the ledger by the {@link ReleaseRecorder}, evaluated by
 * {@link FederatedEvaluation}, recorded and checkpointed. Exactly one stage is open at a time
 * ({@link StageCollector}). All fields are touched only on the event loop; blocking work goes to
 * {@link Workers}.
 */
public final class JobRunner implements ResultSink {
  private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

  private final JobDefinition definition;
  private final JobSpec spec;
  private final JobContext job;
  private final MemberRegistry registry;
  private final Timers timers;
  private final CoordinatorStore store;
  private final ModelOps modelOps;
  private final RoundRunner rounds;
  /** Banks left out of the next rounds after with_input sums they made impossible to unmask. */
  private final AbandonedSumBench bench;
  private final FeatureStatistics statistics;
  /** What the feature statistics said of the preprocessing (empty without rules, or after a restart). */
  private JsonObject preprocessing = new JsonObject();
  private final JobResultWriter writer;
  private final LedgerKeeper ledger;
  private final ModelPublisher publisher;
  private final Promise<JsonObject> outcome = Promise.promise();
  /** Completes when the job's work has ended, however it ended (also when the runner was halted). */
  private final Promise<Void> settled = Promise.promise();
  private final Runnable stopListening;
  private Runnable stopWaiting = () -> { };
  /** Why the job was cancelled, or null. */
  private String cancelled;
  /** The service is stopping: the job ends where it is, recorded as it stands, and resumes at the next start. */
  private boolean halted;

  private final List<String> accepted = new ArrayList<>();
  /** Attempts at rounds a stop or crash cut short, this job's whole life (loaded at start). */
  private final List<CoordinatorStore.AttemptRow> abortedAttempts = new ArrayList<>();
  private final Map<String, BankRecord> banks = new LinkedHashMap<>();

  public JobRunner(Vertx vertx, JobDefinition definition, MemberRegistry registry, CoordinatorStore store,
                   ModelOps modelOps, LedgerKeeper ledger, IdentityVerifier identityVerifier, Path resultFile) {
    this.definition = definition;
    this.spec = definition.spec();
    this.registry = registry;
    this.timers = Timers.of(vertx);
    this.store = store;
    this.modelOps = modelOps;
    StageCollector stages = new StageCollector(spec.id(), registry, timers, definition.stageTimeout());
    this.job = JobContext.of(spec, stages, registry, Workers.of(vertx));
    Optional<PipelinedRounds> pipeline = spec.secureAggregation().enabled()
        ? Optional.of(new PipelinedRounds(job, identityVerifier)) : Optional.empty();
    RoundProtocol protocol = pipeline.isPresent() ? new SecureRound(job, identityVerifier, pipeline.get())
        : new PlaintextRound(job);
    this.rounds = new RoundRunner(job, protocol, ServerUpdateRule.of(spec.training().strategy()),
        new ReleaseRecorder(job, ledger, pipeline),
        new FederatedEvaluation(job, modelOps, identityVerifier), store);
    this.bench = new AbandonedSumBench(spec);
    rounds.observe(bench::recorded);
    this.statistics = new FeatureStatistics(job, modelOps, identityVerifier);
    this.writer = new JobResultWriter(resultFile);
    this.ledger = ledger;
    this.publisher = new ModelPublisher(resultFile.toAbsolutePath().getParent());
    this.stopListening = registry.onDisconnect(stages::disconnected);
    // the stage a round's attempt reached is stored before the stage's tasks go out
    stages.beforeOpen(header -> {
      if (header.getRound() == 0) {
        return Future.succeededFuture();
      }
      String stage = header.getStage().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
      return job.workers().run(() -> {
        store.attemptStage(spec.id(), header.getRound(), stage);
        return null;
      }).onFailure(e -> log.error("job '{}': could not note stage {} of round {}: {}", spec.id(), stage,
          header.getRound(), e.getMessage())).mapEmpty();
    });
  }

  public String jobId() {
    return spec.id();
  }

  public JobDefinition definition() {
    return definition;
  }

  /**
   * Cancels the job: the open stage is withdrawn from the banks, no later stage opens, nothing more
   * is released, and the job is recorded as {@code CANCELLED}. Event loop only.
   */
  public void cancel(String reason) {
    if (cancelled == null && !outcome.future().isComplete()) {
      cancelled = reason;
      job.stages().abandon(new JobCancelledException(reason));
      stopWaiting.run();
    }
  }

  /**
   * Stops the job where it is because the service stops: no later stage opens and nothing is
   * recorded as failed; a restarted coordinator resumes it from its last checkpoint. Completes when
   * the work in flight has ended (the store may then be closed). Event loop only.
   */
  public Future<Void> halt() {
    if (!outcome.future().isComplete() && !halted) {
      halted = true;
      job.stages().abandon(new JobCancelledException("the coordinator is stopping"));
      stopWaiting.run();
    }
    return settled.future();
  }

  /** Tells {@code observer} of every round this job records from now on (on the event loop). */
  public void observeRounds(java.util.function.Consumer<RoundRecord> observer) {
    rounds.observe(observer);
  }

  /** Whether {@link #cancel} was called. */
  public boolean isCancelled() {
    return cancelled != null;
  }

  /** Starts the job (or resumes it from its last checkpoint); completes with the result JSON. */
  public Future<JsonObject> start() {
    job.workers().run(() -> store.job(spec.id()))
        .compose(existing -> {
          if (existing.isPresent() && "COMPLETED".equals(existing.get().status())) {
            log.info("job '{}' already completed; nothing to run", spec.id());
            return job.workers().run(() -> writer.existing().orElseThrow());
          }
          return job.workers().run(() -> {
            store.upsertJob(job.plan(), "WAITING", null);
            var checkpoint = store.latestCheckpoint(spec.id());
            int checkpointed = checkpoint.map(c -> (int) c.model().getVersion()).orElse(0);
            for (CoordinatorStore.AttemptRow a : store.abortOpenAttempts(spec.id(), checkpointed)) {
              log.warn("job '{}': round {} (attempt {}) was cut short at stage {} by a stop or crash; it is recorded as "
                  + "aborted and runs again", spec.id(), a.round(), a.attempt(), a.stage());
            }
            abortedAttemptsLoaded(store.abortedAttempts(spec.id()));
            return checkpoint;
          }).compose(checkpoint -> runFrom(checkpoint.orElse(null)));
        })
        .onSuccess(result -> {
          stopListening.run();
          outcome.tryComplete(result);
          settled.tryComplete();
        })
        .onFailure(e -> {
          stopListening.run();
          stopWaiting.run();
          if (halted) {
            log.info("job '{}' stopped with the coordinator; it resumes from its last checkpoint at the next start",
                spec.id());
            settled.tryComplete();
            return;
          }
          String status = cancelled != null ? "CANCELLED" : "FAILED";
          String reason = cancelled != null ? "cancelled: " + cancelled : e.getMessage();
          if (cancelled != null) {
            log.info("job '{}' cancelled: {}", spec.id(), cancelled);
          } else {
            log.error("job '{}' failed: {}", spec.id(), e.getMessage());
          }
          job.workers().run(() -> {
            store.upsertJob(job.plan(), status, reason);
            return null;
          }).onComplete(x -> {
            outcome.tryFail(cancelled != null ? new JobCancelledException(cancelled) : e);
            settled.tryComplete();
          });
        });
    return outcome.future();
  }

  public Future<JsonObject> outcome() {
    return outcome.future();
  }

  /** Completes when the job's work has ended: completed, failed, cancelled or halted. */
  public Future<Void> settled() {
    return settled.future();
  }

  @Override
  public void accept(String memberId, TaskResult result) {
    job.stages().accept(memberId, result);
  }

  /** What the operator sees: state, open stage, members, finished rounds. Event loop only. */
  public JsonObject status() {
    JsonObject members = new JsonObject();
    for (String m : registry.members()) {
      members.put(m, new JsonObject().put("connected", registry.isConnected(m)).put("accepted", accepted.contains(m)));
    }
    Optional<StageCollector.OpenStageView> open = job.stages().open();
    String state = outcome.future().isComplete()
        ? (outcome.future().succeeded() ? "completed" : cancelled != null ? "cancelled" : "failed")
        : open.isPresent() || !rounds.rounds().isEmpty() ? "running" : "waiting";
    JsonObject status = new JsonObject().put("job_id", spec.id()).put("state", state)
        .put("rounds_planned", spec.training().rounds()).put("members", members)
        .put("rounds", new JsonArray(rounds.rounds().stream().map(RoundRecord::toJson).toList()))
        .put("aborted_attempts", abortedAttemptsJson());
    JsonObject perBank = new JsonObject();
    for (String b : accepted) {
      perBank.put(b, rounds.privacy().bankJson(b, banks.get(b).epsilonCap()));
    }
    status.put("privacy", new JsonObject().put("unit", spec.privacy().mode().wireName()).put("per_bank", perBank));
    open.ifPresent(s -> status.put("open_stage", new JsonObject().put("round", s.header().getRound())
        .put("stage", s.header().getStage().name()).put("awaiting", new JsonArray(s.awaiting()))));
    if (outcome.future().failed()) {
      status.put("reason", outcome.future().cause().getMessage());
    }
    return status;
  }

  private void abortedAttemptsLoaded(List<CoordinatorStore.AttemptRow> rows) {
    synchronized (abortedAttempts) {
      abortedAttempts.clear();
      abortedAttempts.addAll(rows);
    }
  }

  private JsonArray abortedAttemptsJson() {
    synchronized (abortedAttempts) {
      return new JsonArray(abortedAttempts.stream().map(a -> new JsonObject().put("round", a.round())
          .put("attempt", a.attempt()).put("stage", a.stage()).put("started_at", a.startedAt().toString())
          .put("reason", "the coordinator stopped during the round; nothing of it was released")).toList());
    }
  }

  private Future<JsonObject> runFrom(CoordinatorStore.Checkpoint checkpoint) {
    Future<Void> ready = waitForBanks().compose(v -> offer());
    int firstRound = checkpoint == null ? 1 : (int) checkpoint.model().getVersion() + 1;
    if (checkpoint != null) {
      log.info("job '{}' resumes after round {} from its checkpoint", spec.id(), checkpoint.model().getVersion());
      ready = ready.compose(v -> restoreFrom(checkpoint));
    } else {
      ready = ready.compose(v -> featureStatistics());
    }
    Future<Void> all = ready.compose(v -> job.workers().run(() -> {
      store.upsertJob(job.plan(), "RUNNING", null);
      return null;
    }));
    for (int r = firstRound; r <= spec.training().rounds(); r++) {
      int round = r;
      all = all.compose(v -> runRound(round));
    }
    return all.compose(v -> finish());
  }

  // ------------------------------------------------------------------ start-up stages

  private Future<Void> waitForBanks() {
    if (halted || cancelled != null) {
      // halted or cancelled while the job was still loading its state: nothing may start waiting now
      return Future.failedFuture(new JobCancelledException(cancelled != null ? cancelled
          : "the coordinator is stopping"));
    }
    if (registry.members().size() >= definition.expectedBanks()) {
      return Future.succeededFuture();
    }
    Promise<Void> enough = Promise.promise();
    log.info("job '{}' waits up to {} for {} banks ({} enrolled)", spec.id(), definition.startTimeout(),
        definition.expectedBanks(), registry.members().size());
    Runnable unlisten = registry.onEnrolment(id -> {
      if (registry.members().size() >= definition.expectedBanks()) {
        enough.tryComplete();
      }
    });
    long timer = timers.schedule(definition.startTimeout().toMillis(), () -> {
      if (registry.members().size() >= spec.training().minBanks()) {
        enough.tryComplete();
      } else {
        enough.tryFail(new JobFailedException("only " + registry.members().size() + " banks enrolled within "
            + definition.startTimeout() + "; the job needs at least " + spec.training().minBanks()));
      }
    });
    stopWaiting = () -> {
      timers.cancel(timer);
      enough.tryFail(new JobCancelledException(cancelled != null ? cancelled : "the coordinator is stopping"));
    };
    return enough.future().onComplete(x -> {
      unlisten.run();
      timers.cancel(timer);
      stopWaiting = () -> { };
    });
  }

  private Future<Void> offer() {
    List<String> invited = new ArrayList<>(registry.members());
    invited.sort(null);
    return job.stages().collect(0, Stage.JOB_OFFER, invited,
            m -> Task.newBuilder().setJobOffer(JobOffer.newBuilder().setPlan(job.plan())))
        .compose(answers -> {
          accepted.clear();
          for (String m : invited) {
            BankRecord bank = BankRecord.fromOffer(m, answers);
            banks.put(m, bank);
            if (bank.accepted()) {
              accepted.add(m);
            } else {
              log.info("bank '{}' does not take part in job '{}': {}", m, spec.id(), bank.reason());
            }
          }
          if (accepted.size() < spec.training().minBanks()) {
            return Future.failedFuture(new JobFailedException(accepted.size() + " banks accepted job '" + spec.id()
                + "' but it needs at least " + spec.training().minBanks()));
          }
          List<BankRecord> decisions = List.copyOf(banks.values());
          return job.workers().run(() -> {
            for (BankRecord b : decisions) {
              store.recordDecision(spec.id(), b.id(), b.accepted(), b.projectedEpsilon().orElse(Double.NaN), b.reason());
            }
            return null;
          });
        });
  }

  private Future<Void> featureStatistics() {
    return statistics.gather(List.copyOf(accepted)).compose(result -> {
      preprocessing = result.preprocessing();
      accepted.removeIf(m -> !result.banks().containsKey(m));
      result.banks().forEach((m, s) -> banks.put(m, banks.get(m).withRows(s.getTrainRows(), s.getTestRows())));
      List<BankRecord> rows = accepted.stream().map(banks::get).toList();
      return job.workers().run(() -> {
        ModelParameters initial = modelOps.initialModel(spec, result.encoding());
        for (BankRecord b : rows) {
          store.recordRows(spec.id(), b.id(), b.trainRows().orElseThrow(), b.testRows().orElseThrow());
        }
        store.saveCheckpoint(spec.id(), 0, initial, rounds.serverState());
        return initial;
      }).map(initial -> {
        rounds.startFrom(initial);
        log.info("job '{}': feature encoding agreed by {} banks; model has {} parameters", spec.id(),
            accepted.size(), initial.getValuesCount());
        return null;
      });
    });
  }

  private record Stored(List<CoordinatorStore.JobMemberRow> members, List<RoundRecord> rounds) {}

  private Future<Void> restoreFrom(CoordinatorStore.Checkpoint checkpoint) {
    return job.workers().run(() -> {
          rounds.restoreServerState(checkpoint);
          return new Stored(store.jobMembers(spec.id()), store.rounds(spec.id()).stream()
            // a round recorded but not checkpointed before the stop runs again
            .filter(row -> row.round() <= checkpoint.model().getVersion())
            .map(row -> RoundRecord.fromJson(new JsonObject(row.recordJson()))).toList());
        })
        .map(stored -> {
          Set<String> withStatistics = new HashSet<>();
          for (CoordinatorStore.JobMemberRow row : stored.members()) {
            if (banks.containsKey(row.memberId()) && row.trainRows() > 0) {
              banks.put(row.memberId(), banks.get(row.memberId()).withRows(row.trainRows(), row.testRows()));
              withStatistics.add(row.memberId());
            }
          }
          // a bank that never sent feature statistics was not part of the encoding or the weights
          for (String m : List.copyOf(accepted)) {
            if (!withStatistics.contains(m)) {
              log.warn("bank '{}' joined after the job's feature statistics; it cannot take part in the resumed job", m);
              accepted.remove(m);
            }
          }
          rounds.resumeFrom(checkpoint, stored.rounds());
          return null;
        });
  }

  private Future<Void> runRound(int round) {
    List<String> members = bench.members(round, accepted);
    Map<String, Long> trainRows = new LinkedHashMap<>();
    members.forEach(m -> trainRows.put(m, banks.get(m).trainRows().orElse(1L)));
    return job.workers().run(() -> store.openAttempt(spec.id(), round))
        .compose(attempt -> {
          if (attempt > 1) {
            log.info("job '{}': round {} starts again (attempt {})", spec.id(), round, attempt);
          }
          // the attempt is closed with the round's record and checkpoint (RoundRunner)
          return rounds.run(round, members, trainRows);
        });
  }

  private Future<JsonObject> finish() {
    ModelParameters finalModel = rounds.global();
    JsonObject result = JobResultWriter.result(spec, banks.values(), accepted, rounds.rounds(), finalModel,
        rounds.privacy(), rounds.lastMetrics());
    if (!preprocessing.isEmpty()) {
      result.put("preprocessing", preprocessing.copy());
    }
    List<RoundRecord> records = List.copyOf(rounds.rounds());
    List<BankRecord> bankRecords = List.copyOf(banks.values());
    List<String> participants = List.copyOf(accepted);
    result.put("aborted_attempts", abortedAttemptsJson());
    return job.workers().run(() -> publish(finalModel, records, bankRecords, participants))
        .compose(published -> {
          JobFinished.Builder finished = JobFinished.newBuilder().setFinalModel(finalModel).setCompleted(true)
              .setReason("all " + spec.training().rounds() + " rounds done");
          published.ifPresent(p -> finished.setPublishedModel(com.google.protobuf.ByteString.copyFrom(
              io.consort.scoring.PublishedModelFile.encode(p.body()))));
          for (String m : accepted) {
            if (registry.isEnrolled(m)) {
              registry.post(m, Task.newBuilder().setHeader(Headers.of(spec.id(), 0, Stage.FINISHED))
                  .setFinished(finished).build());
            }
          }
          return job.workers().run(() -> {
            if (published.isPresent()) {
              result.put("published_model", publisher.write(published.get()));
            }
            writer.write(spec.id(), result, finalModel);
            store.upsertJob(job.plan(), "COMPLETED", null);
            log.info("job '{}' completed; result in {}", spec.id(), writer.resultFile());
            return result;
          });
        });
  }

  /**
   * The published model, or none when it cannot be built (logged): a finished job is not failed by
   * its publication, and the final model is written either way.
   */
  private Optional<io.consort.scoring.PublishedModel> publish(ModelParameters finalModel, List<RoundRecord> records,
                                                              List<BankRecord> bankRecords, List<String> participants) {
    try {
      return Optional.of(ModelPublisher.publish(spec, finalModel, records, bankRecords, participants, rounds.privacy(),
          ledger.entries(), java.time.Instant.now()));
    } catch (IllegalArgumentException e) {
      log.error("job '{}': the final model cannot be published: {}", spec.id(), e.getMessage());
      return Optional.empty();
    }
  }
}
