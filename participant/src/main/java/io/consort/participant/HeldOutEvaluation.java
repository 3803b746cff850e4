package io.consort.participant;

import io.consort.model.eval.PermutationImportance;
import io.consort.model.eval.RegressionTotals;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.sums.HistogramVector;
import io.consort.model.sums.RegressionVector;
import io.consort.model.train.Objective;
import io.consort.model.train.Predictor;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.RegressionSums;
import io.consort.spec.JobSpec;
import java.util.random.RandomGenerator;

/**
 * What a bank releases of its held-out rows scored with a released model, by the job's objective. A
 * binary job: per-class score histograms with the summed log-loss and correct count, and in the final
 * round each column's permutation importance ({@link HistogramVector}). A regression job: the row count
 * and the summed squared and absolute errors, labels and squared labels, labels and predictions clipped
 * to the schema's label bound ({@link RegressionVector}); no importance (it is measured in log-loss).
 * Under secure aggregation the bank sends only {@link #secureSumVector()}, inside the sum; otherwise
 * {@link #clearResult}.
 */
final class HeldOutEvaluation {
  private final ScoreHistogram histogram;
  private final double[] importance;
  private final RegressionTotals regression;

  private HeldOutEvaluation(ScoreHistogram histogram, double[] importance, RegressionTotals regression) {
    this.histogram = histogram;
    this.importance = importance;
    this.regression = regression;
  }

  /**
   * Scores {@code test} with {@code parameters}.
   *
   * @param finalRound whether this is the job's last round (decided by the pinned plan, not the task,
   *     so a coordinator cannot ask for importance round after round)
   * @param shuffles the permutation importance's shuffles
   */
  static HeldOutEvaluation of(JobSpec spec, float[] parameters, EncodedData test, FeatureEncoding encoding,
                              boolean finalRound, RandomGenerator shuffles) {
    float[] predictions = Predictor.predict(spec.model(), parameters, test);
    if (spec.model().objective() == Objective.REGRESSION) {
      return new HeldOutEvaluation(null, null,
          RegressionTotals.of(spec.schema().labelBound().getAsDouble(), predictions, test.y()));
    }
    ScoreHistogram h = ScoreHistogram.of(predictions, test.y(), spec.evaluation().histogramBins());
    double[] importance = finalRound
        ? PermutationImportance.lossIncrease(spec.model(), parameters, test, encoding, shuffles) : new double[0];
    return new HeldOutEvaluation(h, importance, null);
  }

  /**
   * An evaluation of no rows: what a bank puts into a round's secure sum for a model it may not score
   * (the sum then tells nothing of its held-out rows under that model).
   */
  static HeldOutEvaluation empty(JobSpec spec) {
    if (spec.model().objective() == Objective.REGRESSION) {
      return new HeldOutEvaluation(null, null, new RegressionTotals(spec.schema().labelBound().getAsDouble(),
          0, 0, 0, 0, 0));
    }
    int bins = spec.evaluation().histogramBins();
    return new HeldOutEvaluation(new ScoreHistogram(new long[bins], new long[bins], 0, 0, 0), new double[0], null);
  }

  /** The vector the bank adds to the evaluation's secure sum ({@link io.consort.spec.RoundEvaluation#vectorLength} slots). */
  int[] secureSumVector() {
    return regression != null ? RegressionVector.encode(regression) : HistogramVector.encode(histogram, importance);
  }

  /** The answer without secure aggregation, in the clear. */
  EvaluationResult.Builder clearResult(long modelVersion) {
    EvaluationResult.Builder out = EvaluationResult.newBuilder().setBaseVersion(modelVersion);
    if (regression != null) {
      return out.setExamples(regression.rows()).setRegression(RegressionSums.newBuilder().setRows(regression.rows())
          .setSquaredErrorSum(regression.squaredErrorSum()).setAbsoluteErrorSum(regression.absoluteErrorSum())
          .setLabelSum(regression.labelSum()).setSquaredLabelSum(regression.squaredLabelSum()));
    }
    out.setExamples(histogram.count()).setLogLossSum(histogram.logLossSum()).setCorrect(histogram.correct());
    for (double v : importance) {
      out.addImportance(v);
    }
    for (long c : histogram.positives()) {
      out.addPositiveHistogram(c);
    }
    for (long c : histogram.negatives()) {
      out.addNegativeHistogram(c);
    }
    return out;
  }
}
