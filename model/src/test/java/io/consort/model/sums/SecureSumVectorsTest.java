package io.consort.model.sums;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.eval.RegressionTotals;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SecureSumVectorsTest {
  private static final DataSchema SCHEMA = new DataSchema(List.of("income", "debt"),
      List.of(DataSchema.CategoricalColumn.open("purpose")), "default", "yes");

  private static LocalFeatureStats bank(long rows, long positives, double income, double incomeSq, double debt,
                                        double debtSq, String... purposes) {
    TreeMap<String, Long> counts = new TreeMap<>();
    for (String p : purposes) {
      counts.merge(p, 1L, Long::sum);
    }
    return new LocalFeatureStats(SCHEMA, rows, positives,
        List.of(new LocalFeatureStats.NumericStats("income", rows, income, incomeSq),
            new LocalFeatureStats.NumericStats("debt", rows, debt, debtSq)),
        List.of(counts));
  }

  @Test
  void theSecureSumOfStatisticsVectors_givesTheSameEncodingAsMergingTheBanksStatistics() {
    List<LocalFeatureStats> banks = List.of(
        bank(300, 90, 1.2e7, 6.1e11, -3.5e4, 9.9e6, "car", "education"),
        bank(500, 100, 2.9e7, 2.2e12, 1.25e3, 4.4e6, "car"),
        bank(70, 30, 5.5e6, 4.7e11, 0.0, 0.0, "furniture"));
    FeatureEncoding direct = FeatureEncoding.merge(banks);
    int[] sum = Limbs.sum(banks.stream().map(FeatureStatsVector::encode).toList());
    LocalFeatureStats total = FeatureStatsVector.decode(SCHEMA, sum, banks.size(),
        List.of(List.of("car", "education", "furniture")));
    assertEquals(870, total.rows());
    assertEquals(220, total.positives());
    FeatureEncoding viaSum = FeatureEncoding.merge(List.of(total));
    assertArrayEquals(direct.means(), viaSum.means(), 1e-9);
    assertArrayEquals(direct.stds(), viaSum.stds(), 1e-6);
    assertEquals(direct.categories(), viaSum.categories());
  }

  @Test
  void fixedPointValues_surviveTheSumToAboutOneMillionth_acrossTheirWholeRange() {
    double[] values = {0.0, 1e-6, -1.5, 123456.789, -9.87e14, 5.0e17, -5.0e17};
    for (double v : values) {
      int[] one = new Limbs.Writer(Limbs.FIXED_LIMBS).fixed("v", v).finish();
      int[] three = Limbs.sum(List.of(one, one, one));
      double back = new Limbs.Reader(three, 3).fixed();
      assertEquals(3 * v, back, Math.max(2e-6, Math.abs(3 * v) * 1e-15), "value " + v);
    }
  }

  @Test
  void limbSumsOfTheMostBanksAllowed_doNotWrap() {
    // the two low limbs at their largest (0xFFFF): 65,536 of them sum to 0xFFFF0000, still below 2^32
    long big = (1L << 46) - 1;
    int[] one = new Limbs.Writer(Limbs.COUNT_LIMBS).count("c", big).finish();
    int[] total = new int[Limbs.COUNT_LIMBS];
    for (int b = 0; b < Limbs.MAX_BANKS; b++) {
      for (int i = 0; i < total.length; i++) {
        total[i] += one[i];
      }
    }
    assertEquals(big * Limbs.MAX_BANKS, new Limbs.Reader(total, Limbs.MAX_BANKS).count());
  }

  @Test
  void valuesASecureSumCannotCarry_areRefusedNamingThem() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FeatureStatsVector.encode(bank(10, 1, 1e20, 1e21, 0, 0)));
    assertTrue(e.getMessage().startsWith("sum of column 'income' is 1.0E20"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Limbs.Writer(3).count("rows", -1));
  }

  @Test
  void importanceSumsRideAlongWithTheHistogram() {
    ScoreHistogram a = ScoreHistogram.of(new float[] {0.1f, 0.8f}, new float[] {0, 1}, 4);
    ScoreHistogram b = ScoreHistogram.of(new float[] {0.6f}, new float[] {1}, 4);
    int[] sum = Limbs.sum(List.of(HistogramVector.encode(a, new double[] {1.5, -0.25}),
        HistogramVector.encode(b, new double[] {0.5, 0.0})));
    HistogramVector.Total total = HistogramVector.decode(4, 2, sum, 2);
    assertEquals(3, total.histogram().count());
    assertArrayEquals(new double[] {2.0, -0.25}, total.importance(), 1e-5);
  }

  @Test
  void histogramsSummedSecurely_equalMergedHistograms() {
    ScoreHistogram a = ScoreHistogram.of(new float[] {0.1f, 0.8f, 0.55f}, new float[] {0, 1, 0}, 10);
    ScoreHistogram b = ScoreHistogram.of(new float[] {0.95f, 0.2f}, new float[] {1, 1}, 10);
    int[] sum = Limbs.sum(List.of(HistogramVector.encode(a), HistogramVector.encode(b)));
    ScoreHistogram total = HistogramVector.decode(10, sum, 2);
    ScoreHistogram merged = ScoreHistogram.merge(List.of(a, b));
    assertArrayEquals(merged.positives(), total.positives());
    assertArrayEquals(merged.negatives(), total.negatives());
    assertEquals(merged.correct(), total.correct());
    assertEquals(merged.logLossSum(), total.logLossSum(), 1e-5);
  }

  @Test
  void theSecureSumOfRegressionVectors_givesThePooledRegressionMetrics() {
    double bound = 3;
    List<RegressionTotals> banks = List.of(
        RegressionTotals.of(bound, new float[] {0.5f, -1.25f, 2.0f}, new float[] {0.25f, -1.0f, 2.75f}),
        RegressionTotals.of(bound, new float[] {9f, -0.5f}, new float[] {1.5f, -0.75f}),
        RegressionTotals.of(bound, new float[] {0.0f}, new float[] {-3f}));
    RegressionTotals pooled = banks.get(0).plus(banks.get(1)).plus(banks.get(2));
    int[] sum = Limbs.sum(banks.stream().map(RegressionVector::encode).toList());
    RegressionTotals total = RegressionVector.decode(bound, sum, banks.size());
    assertEquals(6, total.rows());
    // each scaled term is rounded to 2^-20 per bank; times bound^2 = 9 and three banks
    assertEquals(pooled.squaredErrorSum(), total.squaredErrorSum(), 3 * 9 * 1e-6);
    assertEquals(pooled.absoluteErrorSum(), total.absoluteErrorSum(), 3 * 3 * 1e-6);
    assertEquals(pooled.labelSum(), total.labelSum(), 3 * 3 * 1e-6);
    assertEquals(pooled.squaredLabelSum(), total.squaredLabelSum(), 3 * 9 * 1e-6);
    assertEquals(pooled.rmse(), total.rmse(), 1e-5);
    assertEquals(pooled.rSquared(), total.rSquared(), 1e-5);
  }

  @Test
  void aRegressionVector_cannotOverflow_atTheMostRowsACountCarries_withEveryRowAtTheBound() {
    double bound = 1e6;
    long rows = (1L << 48) - 1;
    // the worst a bank can report: every clipped error 2 * bound, every label at the bound
    RegressionTotals worst = new RegressionTotals(bound, rows, rows * 4 * bound * bound, rows * 2 * bound,
        rows * bound, rows * bound * bound);
    RegressionTotals back = RegressionVector.decode(bound, Limbs.sum(List.of(RegressionVector.encode(worst),
        RegressionVector.encode(worst))), 2);
    assertEquals(2 * rows, back.rows());
    assertEquals(2 * worst.squaredErrorSum(), back.squaredErrorSum(), 1e-12 * back.squaredErrorSum());
    assertEquals(2 * worst.labelSum(), back.labelSum(), 1e-12 * back.labelSum());
  }

  @Test
  void aRegressionSum_whoseTotalsNoClippedRowsGive_isRefused() {
    double bound = 1;
    RegressionTotals honest = RegressionTotals.of(bound, new float[] {0.5f, -0.5f}, new float[] {0.25f, 1f});
    // a second bank claiming one row but more squared error than three rows clipped to the bound allow
    // (4 bound^2 each); an excess that stays within the pooled bound cannot be seen in the sum
    RegressionTotals excess = new RegressionTotals(bound, 1, 12 * bound * bound, 0, 0, 0);
    // or a negative absolute error that the pooled sum would otherwise hide
    RegressionTotals negative = new RegressionTotals(bound, 1, 0, -3 * bound, 0, 0);
    for (RegressionTotals bad : List.of(excess, negative)) {
      int[] sum = Limbs.sum(List.of(RegressionVector.encode(honest), RegressionVector.encode(bad)));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> RegressionVector.decode(bound, sum, 2));
      assertTrue(e.getMessage().contains("are not what 3 rows clipped to 1.0 give"), e.getMessage());
    }
    assertTrue(RegressionVector.decode(bound, Limbs.sum(List.of(RegressionVector.encode(honest),
        RegressionVector.encode(honest))), 2).withinRowBounds());
  }

  @Test
  void aRegressionSumOfTheWrongLength_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RegressionVector.decode(1, new int[RegressionVector.length() + 1], 2));
    assertTrue(e.getMessage().contains("regression evaluation"), e.getMessage());
  }
}
