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
   * One encoding from the secure sum of {@code banks} feature-statistics vectors
   * ({@code io.consort.model.sums.FeatureStatsVector}); {@code names} are the banks' clear answers,
   * which carry the names of the open columns' categories.
   */
  FeatureEncoding mergeSummedStatistics(JobSpec spec, int[] sum, int banks, List<FeatureStats> names);

  /** The round-0 global model for the encoded feature width, deterministic from the plan's seed. */
  ModelParameters initialModel(JobSpec spec, FeatureEncoding encoding);

  /** Global metrics from the banks' merged score histograms. */
  Metrics mergeEvaluations(List<EvaluationResult> evaluations);

  /** Global metrics from the secure sum of {@code banks} histogram vectors of {@code bins} bins. */
  Metrics metricsFromSum(int bins, int[] sum, int banks);

  record Metrics(double auc, double accuracy, double logLoss, long examples) {}
}
