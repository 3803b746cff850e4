package io.consort.scoring.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.eval.ScoreHistogram;
import io.consort.scoring.v1.CalibrationMetrics;
import io.consort.scoring.v1.CostReport;
import io.consort.scoring.v1.ReliabilityBin;
import io.consort.spec.CostMatrix;
import org.junit.jupiter.api.Test;

class HistogramEvaluationTest {
  private static final Calibration IDENTITY = Calibration.identity("test");

  /** Four bins: midpoints 0.125, 0.375, 0.625, 0.875. */
  private static final ScoreHistogram FOUR = new ScoreHistogram(new long[] {1, 2, 6, 7}, new long[] {9, 8, 4, 3}, 0, 0,
      40);

  @Test
  void brierAndLogLoss_areThoseOfTheBinMidpoints() {
    CalibrationMetrics m = HistogramEvaluation.metrics(FOUR, IDENTITY);
    double[] mid = {0.125, 0.375, 0.625, 0.875};
    long[] pos = {1, 2, 6, 7};
    long[] neg = {9, 8, 4, 3};
    double brier = 0;
    double logLoss = 0;
    for (int b = 0; b < 4; b++) {
      brier += pos[b] * Math.pow(1 - mid[b], 2) + neg[b] * Math.pow(mid[b], 2);
      logLoss -= pos[b] * Math.log(mid[b]) + neg[b] * Math.log(1 - mid[b]);
    }
    assertEquals(brier / 40, m.getBrier(), 1e-12);
    assertEquals(logLoss / 40, m.getLogLoss(), 1e-12);
  }

  @Test
  void ece_isTheRowWeightedGapBetweenPredictedAndObserved() {
    CalibrationMetrics m = HistogramEvaluation.metrics(FOUR, IDENTITY);
    // reliability bins of 0.1: 0.125 -> [0.1,0.2), 0.375 -> [0.3,0.4), 0.625 -> [0.6,0.7), 0.875 -> [0.8,0.9)
    double ece = (10 * Math.abs(0.1 - 0.125) + 10 * Math.abs(0.2 - 0.375) + 10 * Math.abs(0.6 - 0.625)
        + 10 * Math.abs(0.7 - 0.875)) / 40;
    assertEquals(ece, m.getEce(), 1e-12);
    assertEquals(10, m.getReliabilityCount());
    ReliabilityBin third = m.getReliability(3);
    assertEquals(10, third.getExamples());
    assertEquals(0.375, third.getMeanPredicted(), 1e-12);
    assertEquals(0.2, third.getObservedRate(), 1e-12);
    assertEquals(0, m.getReliability(0).getExamples());
  }

  @Test
  void ece_isZero_whenEveryBinsRateEqualsItsPrediction() {
    ScoreHistogram calibrated = new ScoreHistogram(new long[] {1, 3, 5, 7}, new long[] {7, 5, 3, 1}, 0, 0, 32);
    assertEquals(0, HistogramEvaluation.metrics(calibrated, IDENTITY).getEce(), 1e-12);
  }

  @Test
  void costs_countTheWrongDecisionsOnEachSideOfTheThreshold() {
    CostMatrix costs = new CostMatrix(5, 1);
    CostReport r = HistogramEvaluation.costs(FOUR, IDENTITY, costs, 0.5);
    // refuse at 0.5: bins 2 and 3 refused -> false negatives 1 + 2, false positives 4 + 3
    assertEquals((5.0 * 3 + 1.0 * 7) / 40, r.getAtHalf().getExpectedCost(), 1e-12);
    assertEquals(20.0 / 40, r.getAtHalf().getRefusedFraction(), 1e-12);
    assertEquals(5.0 * 16 / 40, r.getApproveEveryone(), 1e-12);
    assertEquals(24.0 / 40, r.getRefuseEveryone(), 1e-12);
    // edges 0, .25, .5, .75, 1: costs 24, 5+15=20... the minimum is at edge 0.25 (refuse bins 1-3)
    double[] byEdge = {24, 5 * 1 + 15, 5 * 3 + 7, 5 * 9 + 3, 5 * 16};
    assertEquals(byEdge[1] / 40, r.getMinimising().getExpectedCost(), 1e-12);
    assertEquals(0.25, r.getMinimising().getThreshold(), 1e-12);
  }

  @Test
  void aThresholdInsideABin_takesTheShareOfTheBinAboveIt() {
    CostMatrix costs = new CostMatrix(5, 1);
    // 0.625 is halfway through bin 2 ([0.5, 0.75)): half its 6 positives and 4 negatives are refused
    double cost = HistogramEvaluation.at(FOUR, IDENTITY, costs, 0.625).getExpectedCost();
    assertEquals((5.0 * (1 + 2 + 3) + 1.0 * (2 + 3)) / 40, cost, 1e-12);
  }

  @Test
  void costs_useTheCalibratedProbability_soTheSameRowsAreRefusedAtTheMappedThreshold() {
    Calibration shift = new Calibration(Calibration.Method.PLATT, 1, -1, 40, 4, "");
    // calibrated p >= 0.5 <=> model logit >= 1 <=> model probability >= 0.731: 0.731 is 92% of the way
    // through bin 2 ([0.5, 0.75)) -> 8% of bin 2 and all of bin 3 refused
    double raw = Calibration.sigmoid(1);
    double share = 3 - raw * 4;
    double expected = (5.0 * (1 + 2 + 6 * (1 - share)) + 1.0 * (4 * share + 3)) / 40;
    assertEquals(expected, HistogramEvaluation.at(FOUR, shift, new CostMatrix(5, 1), 0.5).getExpectedCost(), 1e-12);
  }

  @Test
  void evaluate_reportsTheBaseRateLogLoss_andBothSidesOfTheCalibration() {
    var e = HistogramEvaluation.evaluate(3, FOUR, 0.8, 0.7, 0.55, IDENTITY, java.util.Optional.empty(), 0.5);
    double rate = 16.0 / 40;
    assertEquals(-(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate)), e.getBaseRateLogLoss(), 1e-12);
    assertEquals(16, e.getPositives());
    assertEquals(e.getBefore(), e.getAfter());
    assertTrue(!e.hasCost());
  }
}
