package io.consort.coordinator.job;

import io.consort.model.eval.RegressionTotals;
import io.consort.model.sums.HistogramVector;
import io.consort.model.sums.RegressionVector;
import io.consort.model.train.Objective;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.RegressionSums;
import io.consort.spec.JobSpec;
import io.consort.spec.RoundEvaluation;
import java.util.ArrayList;
import java.util.List;

/**
 * What a federated evaluation carries and how the coordinator merges it, by the job's objective. A
 * binary job: per-class score histograms ({@link HistogramVector}, merged by {@link ModelOps}) and, in
 * the final round, each column's permutation importance. A regression job: the banks' error sums over
 * their held-out rows ({@link RegressionVector}, labels and predictions clipped to the schema's label
 * bound), pooled into RMSE, MAE and R^2; no importance.
 */
final class EvaluationMerge {
  private final JobSpec spec;
  private final ModelOps modelOps;

  EvaluationMerge(JobSpec spec, ModelOps modelOps) {
    this.spec = spec;
    this.modelOps = modelOps;
  }

  private boolean regression() {
    return spec.model().objective() == Objective.REGRESSION;
  }

  private double bound() {
    return spec.schema().labelBound().getAsDouble();
  }

  /**
   * The columns whose permutation importance the round's evaluation carries: in a binary job's final
   * round the schema's original columns in the order banks report them (numeric, then categorical);
   * otherwise none.
   */
  List<String> importanceColumns(int round) {
    if (regression() || round != spec.training().rounds()) {
      return List.of();
    }
    List<String> names = new ArrayList<>(spec.schema().numericColumns());
    spec.schema().categoricalColumns().forEach(c -> names.add(c.name()));
    return names;
  }

  /** The length of a bank's vector in the evaluation's secure sum. */
  int vectorLength(List<String> importanceColumns) {
    return RoundEvaluation.vectorLength(spec, importanceColumns.size());
  }

  /**
   * Whether a clear answer (no secure aggregation) carries what the round asked for; a regression
   * answer's sums must also be finite and within what its rows allow ({@link RegressionTotals#withinRowBounds}).
   */
  boolean completeInClear(EvaluationResult e, List<String> importanceColumns) {
    if (!regression()) {
      return e.getImportanceCount() == importanceColumns.size();
    }
    if (!e.hasRegression()) {
      return false;
    }
    try {
      return totals(e.getRegression()).withinRowBounds();
    } catch (IllegalArgumentException notTotals) {
      return false; // negative rows, a sum that is not finite
    }
  }

  private RegressionTotals totals(RegressionSums r) {
    return new RegressionTotals(bound(), r.getRows(), r.getSquaredErrorSum(), r.getAbsoluteErrorSum(), r.getLabelSum(),
        r.getSquaredLabelSum());
  }

  /** The consortium's metrics from the secure sum of {@code banks} vectors. Blocking: run on a worker. */
  ModelOps.Metrics fromSum(List<String> importanceColumns, int[] sum, int banks) {
    if (regression()) {
      return ModelOps.Metrics.ofRegression(RegressionVector.decode(bound(), sum, banks));
    }
    return modelOps.metricsFromSum(spec.evaluation().histogramBins(), importanceColumns, sum, banks);
  }

  /** The consortium's metrics from the banks' clear answers. Blocking: run on a worker. */
  ModelOps.Metrics fromClear(List<EvaluationResult> evaluations, List<String> importanceColumns) {
    if (!regression()) {
      return modelOps.mergeEvaluations(evaluations, importanceColumns);
    }
    RegressionTotals total = new RegressionTotals(bound(), 0, 0, 0, 0, 0);
    for (EvaluationResult e : evaluations) {
      total = total.plus(totals(e.getRegression()));
    }
    return ModelOps.Metrics.ofRegression(total);
  }
}
