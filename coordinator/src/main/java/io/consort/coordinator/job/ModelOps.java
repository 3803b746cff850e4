package io.consort.coordinator.job;

import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.FeatureEncoding;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.ModelParameters;
import io.consort.spec.JobSpec;
import java.util.List;

/**
 * The model arithmetic the coordinator needs, kept behind an interface so the orchestration can be
 * tested without a neural-network backend. Implementations may block; callers run them on workers.
 */
public interface ModelOps {
  /** One encoding for every bank, from the banks' per-column sums and counts only. */
  FeatureEncoding mergeFeatureStats(JobSpec spec, List<FeatureStats> stats);

  /**
   * One stage's merged statistics: the encoding, and what the coordinator learnt of the preprocessing
   * (per column: the fill and clip bounds it chose, the consortium's counts of missing values and of
   * rows mapped to "other"), for the job's result.
   */
  record MergedStatistics(FeatureEncoding encoding, io.vertx.core.json.JsonObject preprocessing) {}

  /**
   * The first statistics stage: the encoding (preliminary when the job's preprocessing has a second
   * stage) from the secure sum of {@code banks} first-stage vectors
   * ({@code io.consort.model.sums.FeatureStatsVector}) and the banks' clear answers, which carry the
   * names of the open columns' categories.
   */
  MergedStatistics mergeFirstStage(JobSpec spec, int[] sum, int banks, List<FeatureStats> names);

  /** The second statistics stage: the final encoding from the preliminary one and the sum of the second stage. */
  MergedStatistics mergeSecondStage(JobSpec spec, FeatureEncoding preliminary, int[] sum, int banks);

  /** The round-0 global model for the encoded feature width, deterministic from the plan's seed. */
  ModelParameters initialModel(JobSpec spec, FeatureEncoding encoding);

  /**
   * Global metrics from the banks' merged score histograms; with {@code importanceColumns} (the final
   * round), also each column's permutation importance from the banks' summed log-loss increases.
   */
  Metrics mergeEvaluations(List<EvaluationResult> evaluations, List<String> importanceColumns);

  /**
   * Global metrics from the secure sum of {@code banks} evaluation vectors of {@code bins} bins, with
   * importance sums for {@code importanceColumns} when it is not empty.
   */
  Metrics metricsFromSum(int bins, List<String> importanceColumns, int[] sum, int banks);

  /**
   * A federated evaluation: of a binary model, AUC, accuracy and log-loss (NaN for a regression
   * model); of a regression model, the summed errors in {@code regression}.
   *
   * @param merged the merged histogram the metrics come from, when known: the published model's
   *     calibration is fitted on the final round's (a function of what the banks already released)
   * @param regression a regression model's pooled error sums (RMSE, MAE, R^2); empty for a binary model
   */
  record Metrics(double auc, double accuracy, double logLoss, long examples,
                 java.util.Optional<io.consort.model.eval.ScoreHistogram> merged,
                 java.util.Map<String, Double> importance,
                 java.util.Optional<io.consort.model.eval.RegressionTotals> regression) {
    /**
     * @param importance per original column, the mean log-loss increase per held-out row when the
     *     column is shuffled (permutation importance); empty when the round did not measure it
     */
    public Metrics {
      java.util.Objects.requireNonNull(merged, "merged");
      java.util.Objects.requireNonNull(regression, "regression");
      importance = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(importance));
    }

    public Metrics(double auc, double accuracy, double logLoss, long examples,
                   java.util.Optional<io.consort.model.eval.ScoreHistogram> merged,
                   java.util.Map<String, Double> importance) {
      this(auc, accuracy, logLoss, examples, merged, importance, java.util.Optional.empty());
    }

    public Metrics(double auc, double accuracy, double logLoss, long examples,
                   java.util.Optional<io.consort.model.eval.ScoreHistogram> merged) {
      this(auc, accuracy, logLoss, examples, merged, java.util.Map.of());
    }

    public Metrics(double auc, double accuracy, double logLoss, long examples) {
      this(auc, accuracy, logLoss, examples, java.util.Optional.empty());
    }

    /** A regression model's evaluation: its pooled error sums, no AUC, accuracy or log-loss. */
    public static Metrics ofRegression(io.consort.model.eval.RegressionTotals totals) {
      return new Metrics(Double.NaN, Double.NaN, Double.NaN, totals.rows(), java.util.Optional.empty(),
          java.util.Map.of(), java.util.Optional.of(totals));
    }

    /** The headline figure for a log line: AUC, or a regression model's RMSE. */
    public String headline() {
      return regression.map(t -> String.format(java.util.Locale.ROOT, "RMSE %.4f", t.rmse()))
          .orElseGet(() -> String.format(java.util.Locale.ROOT, "AUC %.4f", auc));
    }

    /** The figures as the round records, the job's result and the dashboard show them. */
    public void putInto(io.vertx.core.json.JsonObject j) {
      if (regression.isPresent()) {
        io.consort.model.eval.RegressionTotals t = regression.get();
        putFinite(j, "rmse", t.rmse());
        putFinite(j, "mae", t.mae());
        putFinite(j, "r2", t.rSquared());
        putFinite(j, "mean_prediction_rmse", t.meanPredictionRmse());
        putFinite(j, "zero_prediction_rmse", t.zeroPredictionRmse());
        j.put("examples", examples);
        return;
      }
      j.put("auc", auc).put("accuracy", accuracy).put("loss", logLoss).put("examples", examples);
    }

    private static void putFinite(io.vertx.core.json.JsonObject j, String key, double v) {
      if (Double.isFinite(v)) {
        j.put(key, v);
      }
    }
  }
}
