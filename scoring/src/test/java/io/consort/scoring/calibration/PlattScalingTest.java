package io.consort.scoring.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.eval.ScoreHistogram;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PlattScalingTest {
  /**
   * A histogram whose bins hold exactly the expected counts under a known miscalibration: in bin b,
   * n rows of which sigmoid(a z_b + c) are positive, z_b the bin midpoint's logit.
   */
  static ScoreHistogram expected(int bins, long rowsPerBin, double a, double c) {
    long[] pos = new long[bins];
    long[] neg = new long[bins];
    for (int b = 0; b < bins; b++) {
      double p = Calibration.sigmoid(a * HistogramEvaluation.midpointLogit(b, bins) + c);
      pos[b] = Math.round(rowsPerBin * p);
      neg[b] = rowsPerBin - pos[b];
    }
    return new ScoreHistogram(pos, neg, 0, 0, bins * rowsPerBin);
  }

  @Test
  void fit_recoversTheMiscalibration_whenTheCountsAreExactlyThoseOfAKnownPlattMap() {
    Calibration c = PlattScaling.fit(expected(100, 100_000, 0.4, -0.7));
    assertEquals(Calibration.Method.PLATT, c.method());
    // only the counts' rounding to whole rows and Platt's target regularisation move it
    assertEquals(0.4, c.slope(), 1e-4);
    assertEquals(-0.7, c.intercept(), 1e-4);
    assertEquals(10_000_000, c.fittedOnExamples());
    assertEquals(100, c.histogramBins());
  }

  @Test
  void fit_isNearTheIdentity_whenTheModelIsAlreadyCalibrated() {
    Calibration c = PlattScaling.fit(expected(50, 200_000, 1, 0));
    assertEquals(1, c.slope(), 1e-4);
    assertEquals(0, c.intercept(), 1e-4);
  }

  /**
   * Rows drawn at random: 20,000 rows, scores uniform, labels Bernoulli(sigmoid(0.5 z - 1)). The fitted
   * slope's standard error here is about 0.012 and the intercept's about 0.025 (from the Fisher
   * information at this design), so tolerances of 0.06 and 0.12 are about 5 standard errors: a
   * correct fit fails with probability below 1e-6 per parameter. Seeded, so in practice it is one
   * fixed draw.
   */
  @Test
  void fit_estimatesTheMiscalibration_whenLabelsAreDrawnAtRandom() {
    SplittableRandom random = new SplittableRandom(11);
    int n = 20_000;
    float[] scores = new float[n];
    float[] labels = new float[n];
    for (int i = 0; i < n; i++) {
      double s = 0.01 + 0.98 * random.nextDouble();
      scores[i] = (float) s;
      double z = Math.log(s / (1 - s));
      labels[i] = random.nextDouble() < Calibration.sigmoid(0.5 * z - 1) ? 1f : 0f;
    }
    Calibration c = PlattScaling.fit(ScoreHistogram.of(scores, labels, 100));
    assertEquals(0.5, c.slope(), 0.06);
    assertEquals(-1, c.intercept(), 0.12);
  }

  @Test
  void fit_returnsTheIdentityWithTheReason_whenTheHeldOutRowsHoldOneClass() {
    ScoreHistogram negativesOnly = new ScoreHistogram(new long[] {0, 0}, new long[] {3, 4}, 0, 0, 7);
    Calibration c = PlattScaling.fit(negativesOnly);
    assertEquals(Calibration.Method.IDENTITY, c.method());
    assertTrue(c.note().contains("no positive row"), c.note());
  }

  @Test
  void fit_returnsTheIdentityWithTheReason_whenTheScoresRankBackwards() {
    // positives in the low bins, negatives in the high ones
    ScoreHistogram backwards = new ScoreHistogram(new long[] {40, 30, 5, 1}, new long[] {1, 5, 30, 40}, 0, 0, 152);
    Calibration c = PlattScaling.fit(backwards);
    assertEquals(Calibration.Method.IDENTITY, c.method());
    assertTrue(c.note().contains("do not rank"), c.note());
  }

  @Test
  void calibration_lowersLogLossBelowTheBaseRate_whenTheModelIsOverconfidentButRanksWell() {
    // an overconfident model: true map sigmoid(0.3 z - 0.5)
    ScoreHistogram h = expected(100, 1_000, 0.3, -0.5);
    Calibration c = PlattScaling.fit(h);
    double before = HistogramEvaluation.metrics(h, Calibration.identity("")).getLogLoss();
    double after = HistogramEvaluation.metrics(h, c).getLogLoss();
    long positives = java.util.Arrays.stream(h.positives()).sum();
    double rate = (double) positives / h.count();
    double baseRate = -(rate * Math.log(rate) + (1 - rate) * Math.log1p(-rate));
    assertTrue(before > baseRate, "the fixture is worse than the base rate before calibration: " + before);
    assertTrue(after < baseRate, after + " < " + baseRate);
    assertTrue(HistogramEvaluation.metrics(h, c).getEce() < 0.01);
  }
}
