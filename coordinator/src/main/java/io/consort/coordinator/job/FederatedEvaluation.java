package io.consort.coordinator.job;

import io.consort.identity.IdentityVerifier;
import io.consort.protocol.v1.EvaluateTask;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.secagg.RoundParameters;
import io.consort.spec.SecureRoundPlan;
import io.consort.spec.SecureSumPurpose;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Federated evaluation: each bank scores its own held-out rows with the round's model and builds
 * per-class score histograms (a regression job: error sums, {@link EvaluationMerge}); the coordinator
 * turns the merged histograms into global AUC, accuracy and log-loss (RMSE, MAE and R^2). Under secure
 * aggregation the histograms travel only inside a {@link SecureSum}, so the coordinator sees the
 * consortium's histogram and never one bank's: a model's evaluation rides in the next round's sum
 * ({@link #carried}), and only the last round's model has an evaluation sum of its own ({@link #evaluate}).
 */
public final class FederatedEvaluation {
  private static final Logger log = LoggerFactory.getLogger(FederatedEvaluation.class);

  private final JobContext job;
  private final IdentityVerifier identityVerifier;
  private final EvaluationMerge merge;

  public FederatedEvaluation(JobContext job, ModelOps modelOps, IdentityVerifier identityVerifier) {
    this.job = job;
    this.identityVerifier = identityVerifier;
    this.merge = new EvaluationMerge(job.spec(), modelOps);
  }

  /** The merged metrics of the banks that evaluated {@code model}, or empty when no usable merge exists. */
  public Future<Optional<ModelOps.Metrics>> evaluate(int round, List<String> banks, ModelParameters model) {
    int bins = job.spec().evaluation().histogramBins();
    // the final round's evaluation also carries each column's permutation importance (the banks decide
    // the same from the plan they pinned)
    List<String> columns = merge.importanceColumns(round);
    Optional<RoundParameters> secure = Optional.empty();
    if (job.spec().secureAggregation().enabled()) {
      try {
        secure = Optional.of(SecureRoundPlan.sum(job.spec(), round, SecureSumPurpose.EVALUATION, banks,
            merge.vectorLength(columns)));
      } catch (IllegalArgumentException e) {
        log.warn("round {}: no evaluation: {}", round, e.getMessage());
        return Future.succeededFuture(Optional.empty());
      }
    }
    Optional<RoundParameters> params = secure;
    return job.stages().collect(round, Stage.EVALUATE, banks, m -> {
          EvaluateTask.Builder task = EvaluateTask.newBuilder().setGlobalModel(model).setHistogramBins(bins)
              .setPlan(job.plan());
          params.ifPresent(p -> task.addAllRoundMembers(banks));
          return Task.newBuilder().setEvaluate(task);
        })
        .compose(answers -> {
          Map<String, EvaluationResult> usable = new LinkedHashMap<>();
          for (String m : banks) {
            TaskResult r = answers.answer(m).orElse(null);
            if (r != null && r.hasEvaluation() && r.getEvaluation().getBaseVersion() == model.getVersion()
                && (params.isEmpty() ? merge.completeInClear(r.getEvaluation(), columns)
                    : r.getEvaluation().hasSecureSum())) {
              usable.put(m, r.getEvaluation());
            } else {
              log.warn("round {}: no usable evaluation from bank '{}' ({})", round, m,
                  r != null && r.hasEvaluation() ? "it evaluated model version " + r.getEvaluation().getBaseVersion()
                      : answers.problemOf(m));
            }
          }
          if (params.isPresent()) {
            return secureSum(round, params.get(), banks, usable, bins, columns, model);
          }
          if (usable.isEmpty()) {
            return Future.succeededFuture(Optional.empty());
          }
          List<EvaluationResult> evaluations = new ArrayList<>(usable.values());
          return job.workers().run(() -> Optional.of(merge.fromClear(evaluations, columns)));
        });
  }

  /**
   * The metrics of the evaluation round {@code round}'s secure sum carried ({@link io.consort.spec.RoundEvaluation}):
   * the banks in the sum evaluated the model the round started from, without importance. Empty when the
   * sum holds no held-out row or does not decode (a bank that put garbage into its evaluation slots):
   * the round's update goes on either way.
   */
  public Future<Optional<ModelOps.Metrics>> carried(int round, RoundOutcome.EvaluationSum evaluation) {
    return fromSum(round, List.of(), evaluation.sum(), evaluation.banks());
  }

  /**
   * The metrics of an evaluation secure sum of {@code banks} vectors, on a worker. Empty when the sum
   * holds no held-out row or does not decode (a bank put garbage, or values no clipped rows give, into
   * its slots): the job goes on without them.
   */
  private Future<Optional<ModelOps.Metrics>> fromSum(int round, List<String> columns, int[] sum, int banks) {
    return job.workers().run(() -> Optional.of(merge.fromSum(columns, sum, banks)).filter(m -> m.examples() > 0))
        .otherwise(e -> {
          log.warn("round {}: the evaluation's secure sum does not decode: {}", round, e.getMessage());
          return Optional.empty();
        });
  }

  private Future<Optional<ModelOps.Metrics>> secureSum(int round, RoundParameters params, List<String> banks,
                                                       Map<String, EvaluationResult> usable, int bins,
                                                       List<String> columns, ModelParameters model) {
    SecureSum sum = SecureSum.open(job, identityVerifier, round, "evaluation", params);
    sum.bindModel(model); // the banks bound their masks to the model they evaluated
    Map<String, SecAggStep> advertisements = new LinkedHashMap<>();
    for (String m : banks) {
      if (usable.containsKey(m)) {
        advertisements.put(m, usable.get(m).getSecureSum());
      } else {
        sum.drop(m, "evaluate", "no usable evaluation");
      }
    }
    return sum.run(advertisements, "evaluate").compose(outcome -> {
      if (outcome.result().isEmpty()) {
        log.warn("round {}: no evaluation: {}", round, outcome.abortReason().orElseThrow());
        return Future.succeededFuture(Optional.<ModelOps.Metrics>empty());
      }
      return fromSum(round, columns, outcome.result().get().sum(), outcome.result().get().includedBanks().size());
    });
  }
}
