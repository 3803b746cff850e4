package io.consort.model.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RegressionTotalsTest {
  @Test
  void rmseMaeAndRSquared_matchTheirDefinitions_onAHandComputedExample() {
    // labels 1, 2, 3, 6; predictions 1.5, 2, 2, 5: errors 0.5, 0, -1, -1
    RegressionTotals t = RegressionTotals.of(10, new float[] {1.5f, 2f, 2f, 5f}, new float[] {1, 2, 3, 6});
    assertEquals(4, t.rows());
    assertEquals(Math.sqrt(2.25 / 4), t.rmse(), 1e-12);
    assertEquals(2.5 / 4, t.mae(), 1e-12);
    // mean 3, SST = 4 + 1 + 0 + 9 = 14
    assertEquals(1 - 2.25 / 14, t.rSquared(), 1e-12);
    assertEquals(Math.sqrt((1 + 4 + 9 + 36) / 4.0), t.zeroPredictionRmse(), 1e-12);
    assertEquals(Math.sqrt(14 / 4.0), t.meanPredictionRmse(), 1e-12);
    assertEquals(Math.sqrt(1 - t.rSquared()), t.rmse() / t.meanPredictionRmse(), 1e-12);
  }

  @Test
  void labelsAndPredictions_areClippedToTheDeclaredBound_andNaNCountsAsTheFarEnd() {
    RegressionTotals t = RegressionTotals.of(2, new float[] {100f, Float.NaN, -7f}, new float[] {-50f, 0f, -2f});
    // clipped: (2 - -2)^2 = 16, (2 - 0)^2 = 4, (-2 - -2)^2 = 0
    assertEquals(20, t.squaredErrorSum(), 1e-12);
    assertEquals(6, t.absoluteErrorSum(), 1e-12);
    assertEquals(-4, t.labelSum(), 1e-12);
    assertEquals(8, t.squaredLabelSum(), 1e-12);
  }

  @Test
  void banksTotals_addToThePooledTotals() {
    float[] p = {0.1f, -0.4f, 0.9f, 0.3f, -0.2f};
    float[] y = {0.0f, -0.5f, 1.2f, 0.1f, 0.4f};
    RegressionTotals pooled = RegressionTotals.of(1, p, y);
    RegressionTotals split = RegressionTotals.of(1, new float[] {p[0], p[1]}, new float[] {y[0], y[1]})
        .plus(RegressionTotals.of(1, new float[] {p[2], p[3], p[4]}, new float[] {y[2], y[3], y[4]}));
    assertEquals(pooled.rmse(), split.rmse(), 1e-12);
    assertEquals(pooled.mae(), split.mae(), 1e-12);
    assertEquals(pooled.rSquared(), split.rSquared(), 1e-12);
  }

  @Test
  void constantLabels_haveNoRSquared_andNoRowsHaveNoMetrics() {
    assertTrue(Double.isNaN(RegressionTotals.of(1, new float[] {0.2f, 0.4f}, new float[] {0.5f, 0.5f}).rSquared()));
    RegressionTotals none = RegressionTotals.of(1, new float[0], new float[0]);
    assertTrue(Double.isNaN(none.rmse()) && Double.isNaN(none.mae()) && Double.isNaN(none.rSquared()));
  }

  @Test
  void aBoundThatIsNotPositiveAndFinite_isRefused_namingIt() {
    for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> RegressionTotals.of(bad, new float[] {1}, new float[] {1}));
      assertTrue(e.getMessage().contains("label bound"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class,
        () -> new RegressionTotals(1, 1, 0, 0, 0, 0).plus(new RegressionTotals(2, 1, 0, 0, 0, 0)));
  }
}
