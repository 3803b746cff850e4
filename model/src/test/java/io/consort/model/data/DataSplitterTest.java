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
}
