package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.coordinator.model.FederatedModelOps;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.sums.HistogramVector;
import io.consort.spec.JobSpec;
import io.consort.spec.RoundEvaluation;
import io.vertx.core.Future;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The metrics of the evaluation a round's secure sum carried, and what a sum that does not decode gives. */
class CarriedEvaluationMetricsTest {
  private final JobSpec spec = JobFixtures.spec().secureAggregation(true).histogramBins(4).build();
  private final FederatedEvaluation evaluation = new FederatedEvaluation(
      JobFixtures.context(spec, new FakeBanks(), new FakeTimers()), new FederatedModelOps(), null);

  private static int[] sum(int[] a, int[] b) {
    int[] s = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      s[i] = a[i] + b[i];
    }
    return s;
  }

  @Test
  void twoBanksHistograms_giveThePooledMetrics() {
    // bank A: a positive scored high and a negative low; bank B: the same again, so the pooled AUC is 1
    int[] a = HistogramVector.encode(ScoreHistogram.of(new float[] {0.9f, 0.1f}, new float[] {1, 0}, 4));
    int[] b = HistogramVector.encode(ScoreHistogram.of(new float[] {0.8f, 0.2f}, new float[] {1, 0}, 4));
    assertEquals(RoundEvaluation.vectorLength(spec, 0), a.length);
    Future<Optional<ModelOps.Metrics>> metrics = evaluation.carried(2, new RoundOutcome.EvaluationSum(sum(a, b), 2));
    ModelOps.Metrics m = metrics.result().orElseThrow();
    assertEquals(4, m.examples());
    assertEquals(1.0, m.auc(), 1e-12);
  }

  @Test
  void aSumThatDoesNotDecode_orHoldsNoRow_givesNoMetrics_andDoesNotFailTheRound() {
    // a bank that put garbage into its evaluation slots: the limbs no longer rebuild a histogram
    int[] garbage = new int[RoundEvaluation.vectorLength(spec, 0)];
    java.util.Arrays.fill(garbage, 0x7fff_0000);
    Future<Optional<ModelOps.Metrics>> bad = evaluation.carried(2, new RoundOutcome.EvaluationSum(garbage, 2));
    assertTrue(bad.succeeded() && bad.result().isEmpty(), String.valueOf(bad.cause()));
    // every bank sent an empty evaluation (a model none of them may evaluate)
    int[] empty = HistogramVector.encode(new ScoreHistogram(new long[4], new long[4], 0, 0, 0));
    Future<Optional<ModelOps.Metrics>> none = evaluation.carried(2, new RoundOutcome.EvaluationSum(sum(empty, empty), 2));
    assertTrue(none.succeeded() && none.result().isEmpty(), String.valueOf(none.cause()));
  }
}
