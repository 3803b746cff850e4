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
   * @param merged the merged histogram the metrics come from, when known: the published model's
   *     calibration is fitted on the final round's (a function of what the banks already released)
   */
  record Metrics(double auc, double accuracy, double logLoss, long examples,
                 java.util.Optional<io.consort.model.eval.ScoreHistogram> merged,
                 java.util.Map<String, Double> importance) {
    /**
     * @param importance per original column, the mean log-loss increase per held-out row when the
     *     column is shuffled (permutation importance); empty when the round did not measure it
     */
    public Metrics {
      java.util.Objects.requireNonNull(merged, "merged");
      importance = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(importance));
    }

    public Metrics(double auc, double accuracy, double logLoss, long examples,
                   java.util.Optional<io.consort.model.eval.ScoreHistogram> merged) {
      this(auc, accuracy, logLoss, examples, merged, java.util.Map.of());
    }

    public Metrics(double auc, double accuracy, double logLoss, long examples) {
      this(auc, accuracy, logLoss, examples, java.util.Optional.empty());
    }
  }
}
