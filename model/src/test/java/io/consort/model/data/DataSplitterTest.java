package io.consort.model.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DataSplitterTest {
  private final Table german = load();

  private static Table load() {
    try {
      return Datasets.germanCredit().load();
    } catch (DataFormatException e) {
      throw new AssertionError(e);
    }
  }

  private static double rate(Table t) {
    return (double) t.positives() / t.rows();
  }

  @Test
  void iidGivesEqualSharesOfAllRows_deterministicallyFromTheSeed() {
    List<Table> banks = DataSplitter.split(german, 3, "iid", 1);
    assertEquals(1000, banks.stream().mapToInt(Table::rows).sum());
    assertTrue(banks.stream().allMatch(t -> t.rows() == 333 || t.rows() == 334));
    assertEquals(300, banks.stream().mapToInt(Table::positives).sum());
    List<Table> again = DataSplitter.split(german, 3, "iid", 1);
    for (int b = 0; b < 3; b++) {
      assertEquals(banks.get(b).category(0, 5), again.get(b).category(0, 5));
      assertEquals(banks.get(b).numeric(1, 7), again.get(b).numeric(1, 7));
    }
  }

  @Test
  void labelSkewGivesIncreasingPositiveRates() {
    List<Table> banks = DataSplitter.split(german, 3, "label-skew", 2);
    assertEquals(1000, banks.stream().mapToInt(Table::rows).sum());
    assertEquals(0.125, rate(banks.get(0)), 0.01);
    assertEquals(0.30, rate(banks.get(1)), 0.01);
    assertEquals(0.56, rate(banks.get(2)), 0.01);
  }

  @Test
  void byColumnKeepsEachValueAtOneBank_andBalancesSizes() {
    List<Table> banks = DataSplitter.split(german, 3, "by-column:purpose", 3);
    Set<String> seen = new HashSet<>();
    for (Table bank : banks) {
      Set<String> mine = new HashSet<>();
      for (int r = 0; r < bank.rows(); r++) {
        mine.add(bank.value("purpose", r));
      }
      for (String value : mine) {
        assertTrue(seen.add(value), value + " is at two banks");
      }
    }
    assertEquals(1000, banks.stream().mapToInt(Table::rows).sum());
    assertTrue(banks.stream().allMatch(t -> t.rows() >= 200), "greedy balancing");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DataSplitter.split(german, 3, "by-column:own_telephone", 3));
    assertTrue(e.getMessage().contains("2 distinct values"), e.getMessage());
  }

  @Test
  void trainTestIsStratified() {
    DataSplitter.TrainTest parts = DataSplitter.trainTest(german, 0.2, 4);
    assertEquals(200, parts.test().rows());
    assertEquals(60, parts.test().positives());
    assertEquals(240, parts.train().positives());
  }

  @Test
  void refusesUnknownStrategies() {
    assertThrows(IllegalArgumentException.class,
        () -> DataSplitter.split(german, 3, "by-region", 3));
  }

  @Test
  void dirichletSplit_dealsEveryRowOnce_skewsTheLabels_andIsReproducibleFromTheSeed() {
    List<Table> banks = DataSplitter.split(german, 5, "dirichlet:0.5", 4);
    assertEquals(1000, banks.stream().mapToInt(Table::rows).sum());
    assertEquals(300, banks.stream().mapToInt(Table::positives).sum());
    double lowest = 1;
    double highest = 0;
    for (Table bank : banks) {
      assertTrue(bank.positives() >= SplitStrategy.Dirichlet.MIN_ROWS_PER_CLASS, bank.source());
      assertTrue(bank.rows() - bank.positives() >= SplitStrategy.Dirichlet.MIN_ROWS_PER_CLASS, bank.source());
      lowest = Math.min(lowest, rate(bank));
      highest = Math.max(highest, rate(bank));
    }
    assertTrue(highest - lowest > 0.2, "alpha 0.5 skews the positive rates: " + lowest + " to " + highest);
    List<Table> again = DataSplitter.split(german, 5, "dirichlet:0.5", 4);
    for (int b = 0; b < 5; b++) {
      assertEquals(banks.get(b).rows(), again.get(b).rows());
      assertEquals(banks.get(b).numeric(1, 0), again.get(b).numeric(1, 0));
    }
    assertTrue(DataSplitter.split(german, 5, "dirichlet:0.5", 5).get(0).rows() != banks.get(0).rows()
        || DataSplitter.split(german, 5, "dirichlet:0.5", 5).get(1).rows() != banks.get(1).rows());
  }

  @Test
  void dirichletSplit_refusesABadConcentration_andTooFewRowsPerClass() {
    assertThrows(IllegalArgumentException.class, () -> SplitStrategy.parse("dirichlet:0"));
    assertThrows(IllegalArgumentException.class, () -> SplitStrategy.parse("dirichlet:abc"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DataSplitter.split(german, 61, "dirichlet:0.5", 1));
    assertTrue(e.getMessage().contains("at least"), e.getMessage());
  }

  /**
   * Marsaglia-Tsang Gamma draws have mean equal to the shape: for 20,000 draws of Gamma(0.5) (variance
   * 0.5) the sample mean's standard deviation is 0.005; the test allows 0.03 (6 standard deviations),
   * a chance failure below 1e-8. Seeded, so it is also reproducible.
   */
  @Test
  void gammaDraws_haveTheShapeAsTheirMean() {
    var random = io.consort.model.random.ReproducibleRandom.of("gamma-test", 1);
    for (double shape : new double[] {0.5, 2.5}) {
      double sum = 0;
      for (int i = 0; i < 20_000; i++) {
        sum += DataSplitter.gamma(shape, random);
      }
      assertEquals(shape, sum / 20_000, 0.03 * Math.max(1, Math.sqrt(shape / 0.5)), "shape " + shape);
    }
  }
}
