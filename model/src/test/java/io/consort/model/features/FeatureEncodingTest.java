package io.consort.model.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSchema.CategoricalColumn;
import io.consort.model.data.Table;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeatureEncodingTest {
  private static final DataSchema SCHEMA = new DataSchema(List.of("income", "constant"),
      List.of(CategoricalColumn.open("region"),
          new CategoricalColumn("grade", List.of("C", "A", "B"))),
      "default", "yes");

  private static Table bank(String name, double[] income, String[] region, String[] grade) {
    Table.Builder builder = new Table.Builder(SCHEMA, name);
    for (int r = 0; r < income.length; r++) {
      builder.add(new double[] {income[r], 5}, new String[] {region[r], grade[r]}, r % 2 == 0);
    }
    return builder.build();
  }

  private final Table bankA = bank("a.csv", new double[] {10, 20, 30},
      new String[] {"north", "south", "north"}, new String[] {"A", "A", "B"});
  private final Table bankB = bank("b.csv", new double[] {40, 50},
      new String[] {"west", "north"}, new String[] {"C", "A"});

  @Test
  void mergedStatisticsEqualPooledOnes_whenBanksComputeThemSeparately() {
    FeatureEncoding encoding = FeatureEncoding.merge(
        List.of(LocalFeatureStats.compute(bankA), LocalFeatureStats.compute(bankB)));

    assertEquals(30.0, encoding.means()[0], 1e-12);
    // Population standard deviation of 10..50: sqrt(200).
    assertEquals(Math.sqrt(200), encoding.stds()[0], 1e-12);
    assertEquals(1.0, encoding.stds()[1], "a constant column's zero std becomes 1");
    assertEquals(List.of("north", "south", "west"), encoding.categories().get(0));
    assertEquals(List.of("C", "A", "B"), encoding.categories().get(1), "the declared list wins");
    assertEquals(2 + 3 + 3, encoding.featureCount());
    assertEquals("region=west", encoding.featureNames().get(4));
  }

  @Test
  void aBankNamesOnlyCategoriesWithEnoughRows_andAnUnnamedOneEncodesAsNoCategory() {
    // bank A has north twice and south once: with a threshold of 2 it names only north
    LocalFeatureStats released = LocalFeatureStats.compute(bankA).namesOnly(2);
    assertEquals(java.util.Map.of("north", 0L), released.categoryCounts(0));
    assertTrue(released.categoryCounts(1).isEmpty(), "a declared column releases no names");
    FeatureEncoding encoding = FeatureEncoding.merge(List.of(released));
    assertEquals(List.of("north"), encoding.categories().get(0));
    EncodedData encoded = encoding.encode(bankA);
    int region = 2;
    assertEquals(1f, encoded.x()[0 * encoding.featureCount() + region], "north is named");
    assertEquals(0f, encoded.x()[1 * encoding.featureCount() + region], "south is not: no bit for row 2");
  }

  @Test
  void statisticsHoldOnlySumsAndCounts() {
    LocalFeatureStats stats = LocalFeatureStats.compute(bankA);
    assertEquals(3, stats.rows());
    assertEquals(2, stats.positives());
    assertEquals(60.0, stats.numeric().get(0).sum());
    assertEquals(1400.0, stats.numeric().get(0).sumOfSquares());
    assertEquals(2L, stats.categoryCounts(0).get("north"));
  }

  @Test
  void equalRowsEncodeIdentically_atDifferentBanks() {
    FeatureEncoding encoding = FeatureEncoding.merge(
        List.of(LocalFeatureStats.compute(bankA), LocalFeatureStats.compute(bankB)));
    EncodedData a = encoding.encode(bankA);
    EncodedData b = encoding.encode(bankB);
    // Row 0 of A and row 1 of B differ only in income; compare the one-hot parts and one row.
    float[] rowA = Arrays.copyOfRange(a.x(), 0, 8);
    float[] rowB = Arrays.copyOfRange(b.x(), 8, 16);
    assertArrayEquals(Arrays.copyOfRange(rowA, 2, 8), Arrays.copyOfRange(rowB, 2, 8));
    assertArrayEquals(new float[] {(float) (-20 / Math.sqrt(200)), 0, 1, 0, 0, 0, 1, 0}, rowA);
    assertArrayEquals(new float[] {1, 0, 1}, a.y());

    FeatureEncoding rebuilt = new FeatureEncoding(encoding.schema(), encoding.means(),
        encoding.stds(), encoding.categories());
    assertEquals(encoding, rebuilt);
    assertArrayEquals(a.x(), rebuilt.encode(bankA).x());
  }

  @Test
  void anOpenColumnsCategoryThatNoBankNamed_setsNoBitOfThatColumn() {
    FeatureEncoding encoding = FeatureEncoding.merge(List.of(LocalFeatureStats.compute(bankA)));
    EncodedData b = encoding.encode(bankB);
    // bank B's first row is 'west', which bank A's statistics never named: both region bits stay 0
    int regionBits = encoding.categories().get(0).size();
    for (int k = 0; k < regionBits; k++) {
      assertEquals(0f, b.x()[2 + k], "region bit " + k);
    }
    assertEquals(1f, b.x()[encoding.featureCount() + 2], "bank B's second row is north");
  }

  @Test
  void refusesToMerge_whenBanksUsedDifferentSchemas() {
    DataSchema other = new DataSchema(List.of("income"), List.of(), "default", "yes");
    Table t = new Table.Builder(other, "c.csv").add(new double[] {1}, new String[0], true).build();
    assertThrows(IllegalArgumentException.class, () -> FeatureEncoding.merge(
        List.of(LocalFeatureStats.compute(bankA), LocalFeatureStats.compute(t))));
  }

  @Test
  void refusesInvalidParts_whenRebuilt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new FeatureEncoding(SCHEMA, new double[] {0, 0}, new double[] {1, 0},
            List.of(List.of("x"), List.of("A"))));
    assertTrue(e.getMessage().contains("'constant'"), e.getMessage());
  }

  @Test
  void aDeclaredColumnsCategories_areTheSchemas_aRebuiltEncodingListingOthersIsRefused() {
    FeatureEncoding encoding = FeatureEncoding.merge(List.of(LocalFeatureStats.compute(bankA)));
    assertEquals(List.of("C", "A", "B"), encoding.categories().get(1));
    // a guessed level added to, or a level dropped from, the declared list: a coordinator would learn its count
    for (List<String> grades : List.of(List.of("C", "A", "B", "Z"), List.of("C", "A"), List.of("A", "B", "C"))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FeatureEncoding(SCHEMA,
          encoding.means(), encoding.stds(), List.of(encoding.categories().get(0), grades)));
      assertEquals("column 'grade' declares its categories [C, A, B] but the encoding lists " + grades, e.getMessage());
    }
  }
}
