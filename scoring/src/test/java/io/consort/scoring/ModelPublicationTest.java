package io.consort.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.eval.ExactMetrics;
import io.consort.model.eval.GlobalMetrics;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.train.Predictor;
import io.consort.scoring.calibration.Calibration;
import io.consort.scoring.v1.Evaluation;
import io.consort.scoring.v1.ThresholdRule;
import io.consort.spec.JobSpec;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ModelPublicationTest {
  private final GermanCreditModels.Fixture mlp = GermanCreditModels.mlp();

  @Test
  void publish_fitsPlattOnTheMergedHistogram_andReportsBothSidesOfIt() {
    PublishedModel m = mlp.model();
    assertEquals(Calibration.Method.PLATT, m.calibration().method());
    assertEquals(mlp.test().rows(), m.calibration().fittedOnExamples());
    Evaluation e = m.evaluation().orElseThrow();
    assertEquals(mlp.test().rows(), e.getExamples());
    assertEquals(GlobalMetrics.from(mlp.histogram()).auc(), e.getAuc(), 0);
    // in sample, Platt's two parameters never raise the log-loss they minimise (up to the regularised targets)
    assertTrue(e.getAfter().getLogLoss() <= e.getBefore().getLogLoss() + 1e-3,
        e.getAfter().getLogLoss() + " <= " + e.getBefore().getLogLoss());
    assertTrue(e.getAfter().getLogLoss() < e.getBaseRateLogLoss());
    assertEquals(ThresholdRule.BAYES_COST, m.body().getDecision().getRule());
    assertEquals(1.0 / 6, m.decisionThreshold(), 1e-15);
    assertTrue(e.hasCost());
    assertTrue(e.getCost().getMinimising().getExpectedCost() <= e.getCost().getAtDecisionThreshold().getExpectedCost()
        + 1e-12);
    assertTrue(e.getCost().getAtDecisionThreshold().getExpectedCost() < e.getCost().getApproveEveryone());
  }

  @Test
  void histogramBrier_isWithinOneBinWidthOfTheExactBrier() {
    float[] scores = Predictor.predict(mlp.spec().model(), mlp.parameters(), mlp.encodedTest());
    float[] y = mlp.encodedTest().y();
    double exact = 0;
    for (int i = 0; i < scores.length; i++) {
      exact += (scores[i] - y[i]) * (double) (scores[i] - y[i]);
    }
    exact /= scores.length;
    double fromHistogram = mlp.model().evaluation().orElseThrow().getBefore().getBrier();
    assertEquals(exact, fromHistogram, 1.0 / GermanCreditModels.BINS);
  }

  /**
   * The calibration generalises: fitted on one half of the held-out rows' histogram, it lowers the
   * exact log-loss of the other half, to below the base rate's. German credit, seeded split and
   * training, so one fixed outcome; the centrally trained MLP is overconfident (its held-out log-loss
   * is above the base rate's), as the DP demo's models are.
   */
  @Test
  void calibrationFittedOnOneHalf_lowersTheExactLogLossOfTheOtherHalf() {
    float[] scores = Predictor.predict(mlp.spec().model(), mlp.parameters(), mlp.encodedTest());
    float[] y = mlp.encodedTest().y();
    // even rows to fit, odd rows to judge (the held-out rows are sorted by class, so not halves)
    int n = scores.length / 2;
    float[] fitScores = new float[n];
    float[] fitY = new float[n];
    float[] otherScores = new float[n];
    float[] otherY = new float[n];
    for (int i = 0; i < n; i++) {
      fitScores[i] = scores[2 * i];
      fitY[i] = y[2 * i];
      otherScores[i] = scores[2 * i + 1];
      otherY[i] = y[2 * i + 1];
    }
    Calibration c = io.consort.scoring.calibration.PlattScaling.fit(ScoreHistogram.of(fitScores, fitY,
        GermanCreditModels.BINS));
    float[] calibrated = new float[n];
    for (int i = 0; i < n; i++) {
      double s = otherScores[i];
      calibrated[i] = (float) c.probability(Math.log(s / (1 - s)));
    }
    double before = ExactMetrics.logLoss(otherScores, otherY);
    double after = ExactMetrics.logLoss(calibrated, otherY);
    System.out.printf("held-out half: log-loss %.4f before, %.4f after calibration (slope %.3f, intercept %.3f)%n",
        before, after, c.slope(), c.intercept());
    assertTrue(after < before, after + " < " + before);
    double rate = 0;
    for (float v : otherY) {
      rate += v / n;
    }
    assertTrue(after < -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate)), "below the base rate: " + after);
  }

  @Test
  void publish_withoutAnEvaluation_shipsTheModelUncalibrated_andSaysWhy() {
    JobSpec spec = mlp.spec().toBuilder().costMatrix(null).build();
    PublishedModel m = ModelPublication.publish(spec, mlp.model().body().getModel(), Optional.empty(),
        mlp.model().provenance().toBuilder().setJobId(spec.id()).build());
    assertEquals(Calibration.Method.IDENTITY, m.calibration().method());
    assertTrue(m.calibration().note().contains("no bank evaluated the final model"));
    assertFalse(m.evaluation().isPresent());
    assertEquals(0.5, m.decisionThreshold());
    assertEquals(ThresholdRule.HALF, m.body().getDecision().getRule());
  }

  @Test
  void mechanism_namesEachPrivacyUnitsMechanism() {
    assertTrue(ModelPublication.mechanism(GermanCreditModels.withPrivacy(mlp.spec(),
        io.consort.spec.PrivacyMode.RECORD)).startsWith("record level: DP-SGD"));
    assertTrue(ModelPublication.mechanism(mlp.spec()).startsWith("none"));
  }
}
