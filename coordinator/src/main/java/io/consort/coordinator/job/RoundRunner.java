package io.consort.coordinator.job;

import io.consort.coordinator.store.CoordinatorStore;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ServerOptimizerState;
import io.consort.spec.RoundEvaluation;
import io.consort.spec.StrategySpec;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs rounds one at a time and owns what they build up: the global model, the round records and
 * each bank's privacy totals. One round: the {@link RoundProtocol} gathers the aggregate, the
 * {@link ServerUpdateRule} applies it, the {@link ReleaseRecorder} enters the release in the ledger
 * before anyone sees it, {@link FederatedEvaluation} scores it, and the round is recorded and
 * checkpointed, and its attempt closed, in one transaction ({@link CoordinatorStore#finishRound}).
 * Under secure aggregation a model is scored in the next round's secure sum ({@link RoundEvaluation}):
 * its metrics are added to the records of the rounds that left that model when they arrive, and only
 * the last round's model is scored by a sum of its own. A round that aborts leaves the model unchanged
 * and releases nothing. Event loop only.
 */
final class RoundRunner {
  private static final Logger log = LoggerFactory.getLogger(RoundRunner.class);

  private final JobContext job;
  private final RoundProtocol protocol;
  private final ServerUpdateRule updateRule;
  private final ReleaseRecorder releases;
  private final FederatedEvaluation evaluation;
  private final CoordinatorStore store;
  private final List<RoundRecord> rounds = new ArrayList<>();
  private final PrivacyTotals privacy = new PrivacyTotals();
  private ModelParameters global;

  RoundRunner(JobContext job, RoundProtocol protocol, ServerUpdateRule updateRule, ReleaseRecorder releases,
              FederatedEvaluation evaluation, CoordinatorStore store) {
    this.job = job;
    this.protocol = protocol;
    this.updateRule = updateRule;
    this.releases = releases;
    this.evaluation = evaluation;
    this.store = store;
  }

  private final List<java.util.function.Consumer<RoundRecord>> observers = new ArrayList<>();

  /** Tells {@code observer} of every round recorded from now on (on the event loop). */
  void observe(java.util.function.Consumer<RoundRecord> observer) {
    observers.add(observer);
  }

  /** Starts from the initial model. */
  void startFrom(ModelParameters initial) {
    global = initial;
  }

  /**
   * Restores the server optimiser's state after the checkpoint's round. Worker thread, before
   * {@link #resumeFrom}.
   *
   * @throws IllegalArgumentException if the stored state is missing (for a rule that has memory,
   *     after round 0) or belongs to another strategy
   */
  void restoreServerState(CoordinatorStore.Checkpoint checkpoint) {
    long round = checkpoint.model().getVersion();
    StrategySpec.Name strategy = job.spec().training().strategy().name();
    if (checkpoint.serverState().isPresent()) {
      updateRule.restore(checkpoint.serverState().get());
    } else if (round > 0 && strategy != StrategySpec.Name.FEDAVG) {
      throw new IllegalArgumentException("the checkpoint of round " + round + " has no server optimiser state, so "
          + strategy.wireName() + " cannot resume from it");
    }
  }

  /** Continues from a checkpoint, with the records of the rounds before it. */
  void resumeFrom(CoordinatorStore.Checkpoint checkpoint, List<RoundRecord> earlier) {
    ModelParameters model = checkpoint.model();
    global = model;
    for (RoundRecord record : earlier) {
      rounds.add(record);
      privacy.add(record);
    }
  }

  /** The server optimiser's memory now; call on a worker thread, between rounds. */
  ServerOptimizerState serverState() {
    return updateRule.state();
  }

  ModelParameters global() {
    return global;
  }

  List<RoundRecord> rounds() {
    return Collections.unmodifiableList(rounds);
  }

  PrivacyTotals privacy() {
    return privacy;
  }

  /** The metrics of the latest round whose model was evaluated. */
  Optional<ModelOps.Metrics> lastMetrics() {
    for (int i = rounds.size() - 1; i >= 0; i--) {
      if (rounds.get(i).metrics().isPresent()) {
        return rounds.get(i).metrics();
      }
    }
    return Optional.empty();
  }

  /** Runs round {@code round} with {@code members} (their training rows weight secure aggregation). */
  Future<Void> run(int round, List<String> members, Map<String, Long> trainRows) {
    long started = System.nanoTime();
    ModelParameters base = global;
    return protocol.run(new RoundProtocol.RoundInput(round, members, base, trainRows))
        .compose(outcome -> outcome.carriedEvaluation().isEmpty() ? Future.succeededFuture(outcome)
            : evaluation.carried(round, outcome.carriedEvaluation().get())
                .compose(metrics -> metrics.isEmpty() ? Future.succeededFuture() : attach(round, base, metrics.get()))
                .map(outcome))
        .compose(outcome -> {
          if (!outcome.completed()) {
            return Future.succeededFuture(new Released(outcome, base, Optional.empty()));
          }
          AggregatedUpdate aggregate = outcome.aggregate().orElseThrow();
          return job.workers().run(() -> ModelWire.withValues(base,
                  updateRule.apply(ModelWire.values(base), aggregate), round))
              // the release is entered in the privacy ledger, and countersigned, before anyone sees it
              .compose(next -> releases.record(round, outcome, next)
                  .map(release -> new Released(outcome, next, Optional.of(release))));
        })
        .compose(released -> {
          global = released.model();
          // banks that vanished during the round are not waited for again in it
          List<String> responsive = new ArrayList<>(members);
          responsive.removeIf(m -> released.outcome().dropouts().stream().anyMatch(d -> d.bank().equals(m)));
          // under secure aggregation the model is scored in the next round's sum, the last one by a sum of its own
          boolean later = RoundEvaluation.carried(job.spec(), round + 1) && round < job.spec().training().rounds();
          Future<Optional<ModelOps.Metrics>> scored = later ? Future.succeededFuture(Optional.empty())
              : evaluation.evaluate(round, responsive, released.model());
          return scored.map(metrics ->
              RoundRecord.of(round, job.spec().secureAggregation().enabled(), released.outcome(), released.release(),
                  metrics, (System.nanoTime() - started) / 1e9, released.model().getSha256()));
        })
        .compose(this::record);
  }

  /** A round's outcome with the model it released (the base model when it aborted) and its ledger entry. */
  private record Released(RoundOutcome outcome, ModelParameters model, Optional<Release> release) {}

  /**
   * Adds {@code metrics}, the evaluation of {@code model} that round {@code round}'s sum carried, to the
   * records of the rounds that left that model (the round before, and any aborted rounds after it that
   * left it unchanged) and have no evaluation yet, and stores them again.
   */
  private Future<Void> attach(int round, ModelParameters model, ModelOps.Metrics metrics) {
    List<RoundRecord> updated = new ArrayList<>();
    for (int i = 0; i < rounds.size(); i++) {
      RoundRecord r = rounds.get(i);
      if (r.modelSha256().equals(model.getSha256()) && r.metrics().isEmpty()) {
        RoundRecord evaluated = r.withMetrics(metrics, round);
        rounds.set(i, evaluated);
        updated.add(evaluated);
        log.info("round {}: {} of the model of round {}, from this round's secure sum", round, metrics.headline(),
            evaluated.round());
      }
    }
    if (updated.isEmpty()) {
      return Future.succeededFuture();
    }
    String jobId = job.spec().id();
    return job.workers().run(() -> {
      for (RoundRecord r : updated) {
        store.recordRound(jobId, r.round(), r.completed() ? "COMPLETED" : "ABORTED", r.toJson().encode());
      }
      return null;
    });
  }

  private Future<Void> record(RoundRecord record) {
    rounds.add(record);
    privacy.add(record);
    if (!record.completed()) {
      log.warn("round {} aborted: {}", record.round(), record.reason().orElseThrow());
    }
    observers.forEach(o -> o.accept(record));
    log.info("round {}/{}: {} banks, dropped {}, declined {}, {}, {} s", record.round(),
        job.spec().training().rounds(), record.participants().size(),
        record.dropouts().stream().map(Dropout::label).toList(), record.declined(),
        record.metrics().map(ModelOps.Metrics::headline).orElse("no evaluation"),
        String.format("%.2f", record.seconds()));
    String jobId = job.spec().id();
    ModelParameters checkpoint = global.toBuilder().setVersion(record.round()).build();
    String json = record.toJson().encode();
    return job.workers().run(() -> {
      // record, checkpoint and the attempt's close in one transaction; on the worker, after the rule's
      // apply for this round (the futures order them)
      store.finishRound(jobId, record.round(), record.completed() ? "COMPLETED" : "ABORTED", json, checkpoint,
          updateRule.state());
      return null;
    });
  }
}
