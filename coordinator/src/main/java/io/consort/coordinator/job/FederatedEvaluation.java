package io.consort.coordinator.job;

import io.consort.protocol.v1.EvaluateTask;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Federated evaluation: each bank scores its own held-out rows with the round's model and returns
 * per-class score histograms; the coordinator merges them into global AUC, accuracy and log-loss.
 */
public final class FederatedEvaluation {
  private static final Logger log = LoggerFactory.getLogger(FederatedEvaluation.class);

  private final JobContext job;
  private final ModelOps modelOps;

  public FederatedEvaluation(JobContext job, ModelOps modelOps) {
    this.job = job;
    this.modelOps = modelOps;
  }

  /** The merged metrics of the banks that evaluated {@code model}, or empty when none did. */
  public Future<Optional<ModelOps.Metrics>> evaluate(int round, List<String> banks, ModelParameters model) {
    return job.stages().collect(round, Stage.EVALUATE, banks, m -> Task.newBuilder().setEvaluate(
            EvaluateTask.newBuilder().setGlobalModel(model).setHistogramBins(job.spec().evaluation().histogramBins())
                .setPlan(job.plan())))
        .compose(answers -> {
          List<EvaluationResult> evaluations = new ArrayList<>();
          for (String m : banks) {
            TaskResult r = answers.answer(m).orElse(null);
            if (r != null && r.hasEvaluation() && r.getEvaluation().getBaseVersion() == model.getVersion()) {
              evaluations.add(r.getEvaluation());
            } else {
              log.warn("round {}: no usable evaluation from bank '{}' ({})", round, m,
                  r != null && r.hasEvaluation() ? "it evaluated model version " + r.getEvaluation().getBaseVersion()
                      : answers.problemOf(m));
            }
          }
          if (evaluations.isEmpty()) {
            return Future.succeededFuture(Optional.empty());
          }
          return job.workers().run(() -> Optional.of(modelOps.mergeEvaluations(evaluations)));
        });
  }
}
