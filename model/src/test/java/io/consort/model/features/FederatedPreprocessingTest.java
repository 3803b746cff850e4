package io.consort.model.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSchema.CategoricalColumn;
import io.consort.model.data.DatasetLoader;
import io.consort.model.data.Imputation;
import io.consort.model.data.MessyLoans;
import io.consort.model.data.NumericRules;
import io.consort.model.data.Preprocessing;
import io.consort.model.data.QuantileClip;
import io.consort.model.data.QuantileGrid;
import io.consort.model.data.Table;
import io.consort.model.sums.FeatureStatsVector;
import io.consort.model.sums.Limbs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Preprocessing computed federatedly: what the banks' secure sums give equals what one party holding
 * every row would compute with the same rules, and each rule (fills, sentinels, clipping, "other")
 * does to a row what it says.
 */
class FederatedPreprocessingTest {
  static final DataSchema MESSY = new DataSchema(List.of("age", "income", "assets", "debt"),
      List.of(CategoricalColumn.open("home"), CategoricalColumn.open("job"),
          new CategoricalColumn("purpose", List.of("car", "tv", "business", "education", "home"))),
      "Status", "bad", new Preprocessing(Map.of(
          "income", new NumericRules(Imputation.MEDIAN, OptionalDouble.empty(), true, List.of(99999999.0), List.of(),
              Optional.of(new QuantileClip(0.01, 0.99))),
          "assets", new NumericRules(Imputation.MEAN, OptionalDouble.empty(), false, List.of(), List.of("NA"),
              Optional.empty()),
          "debt", new NumericRules(Imputation.MEAN, OptionalDouble.empty(), true, List.of(), List.of(),
              Optional.of(new QuantileClip(0.0, 0.95)))),
          Map.of(
              "home", new CategoricalRules(Imputation.MOST_FREQUENT, Optional.empty(), true, List.of("unknown"), true),
              "job", new CategoricalRules(Imputation.CONSTANT, Optional.of("(none)"), false, List.of(), false),
              "purpose", new CategoricalRules(Imputation.REFUSE, Optional.empty(), false, List.of(), true))));

  @TempDir
  static Path dir;
  static Table all;
  static List<Table> banks;

  @BeforeAll
  static void data() throws Exception {
    all = DatasetLoader.load(MessyLoans.write(dir.resolve("messy.csv"), 3000, 11), MESSY);
    // round robin, except that every 'boat' row goes to the first bank: a category the others lack
    List<List<Integer>> rows = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    for (int r = 0; r < all.rows(); r++) {
      rows.get("boat".equals(all.category(2, r)) ? 0 : r % 3).add(r);
    }
    banks = new ArrayList<>();
    for (int b = 0; b < 3; b++) {
      banks.add(all.select(rows.get(b).stream().mapToInt(Integer::intValue).toArray(), "bank " + (b + 1)));
    }
  }

  /** The federation: banks release names in the clear, everything numeric through the two secure sums. */
  static FeatureEncoding federated(List<Table> tables) {
    DataSchema schema = tables.get(0).schema();
    List<int[]> first = new ArrayList<>();
    List<List<TreeSet<String>>> names = new ArrayList<>();
    List<TreeSet<String>> union = new ArrayList<>();
    schema.categoricalColumns().forEach(c -> union.add(new TreeSet<>()));
    for (Table t : tables) {
      LocalFeatureStats stats = LocalFeatureStats.compute(t);
      first.add(FeatureStatsVector.encode(stats));
      LocalFeatureStats released = stats.namesOnly(LocalFeatureStats.MIN_NAMED_CATEGORY_ROWS);
      for (int j = 0; j < union.size(); j++) {
        union.get(j).addAll(released.categoryCounts(j).keySet());
      }
    }
    List<List<String>> categories = union.stream().map(s -> (List<String>) new ArrayList<>(s)).toList();
    FeatureEncoding preliminary = FeatureEncoding.fromStatistics(FeatureStatsVector.decode(schema,
        Limbs.sum(first), tables.size(), categories));
    if (!FeatureEncoding.needsSecondStage(schema)) {
      return preliminary;
    }
    List<int[]> second = new ArrayList<>();
    for (Table t : tables) {
      second.add(FeatureStatsVector.encodeRefined(RefinedFeatureStats.compute(t, preliminary), preliminary));
    }
    return preliminary.refine(FeatureStatsVector.decodeRefined(preliminary, Limbs.sum(second), tables.size()));
  }

  /** One party with every row, the same rules (categories named by the same five-row rule). */
  static FeatureEncoding pooled(Table table) {
    FeatureEncoding preliminary = FeatureEncoding.fromStatistics(
        LocalFeatureStats.compute(table).namesOnly(LocalFeatureStats.MIN_NAMED_CATEGORY_ROWS));
    return preliminary.refine(RefinedFeatureStats.compute(table, preliminary));
  }

  @Test
  void theDeclaredFeatureCount_isTheWidthOfTheEncodingTheBanksBuild_andUnknownWhileAColumnIsOpen() throws Exception {
    assertTrue(FeatureEncoding.declaredFeatureCount(MESSY).isEmpty(), "home and job are open");
    DataSchema declared = new DataSchema(MESSY.numericColumns(), List.of(MESSY.categoricalColumns().get(2),
        new CategoricalColumn("housing", List.of("own", "rent", "free"))), "Status", "bad",
        new Preprocessing(Map.of("income", MESSY.preprocessing().numeric("income"),
            "assets", MESSY.preprocessing().numeric("assets"), "debt", MESSY.preprocessing().numeric("debt")),
            Map.of("purpose", MESSY.preprocessing().categorical("purpose"),
                "housing", new CategoricalRules(Imputation.CONSTANT, Optional.of("own"), true, List.of(), false))));
    Path file = dir.resolve("declared.csv");
    java.nio.file.Files.writeString(file, "age,income,assets,debt,purpose,housing,Status\n"
        + "30,1000,5,2,car,own,bad\n41,,7,3,boat,rent,good\n52,1500,NA,,tv,,good\n");
    FeatureEncoding encoding = pooled(DatasetLoader.load(file, declared));
    // 4 numeric + purpose's 5 levels and other + housing's 3 + indicators of income, debt and housing
    assertEquals(4 + 6 + 3 + 3, encoding.featureCount());
    assertEquals(encoding.featureCount(), FeatureEncoding.declaredFeatureCount(declared).getAsInt());
  }

  @Test
  void imputationStatistics_equalPooledImputation_whenTheDataIsSplitAmongThreeBanks() {
    FeatureEncoding federated = federated(banks);
    FeatureEncoding pooled = pooled(all);

    assertEquals(pooled.categories(), federated.categories());
    assertEquals(pooled.categoryFills(), federated.categoryFills());
    for (int j = 0; j < MESSY.numericColumns().size(); j++) {
      String column = MESSY.numericColumns().get(j);
      FeatureEncoding.NumericTreatment f = federated.numericTreatments().get(j);
      FeatureEncoding.NumericTreatment p = pooled.numericTreatments().get(j);
      assertEquals(p.clipLower(), f.clipLower(), column);
      assertEquals(p.clipUpper(), f.clipUpper(), column);
      if (p.fills()) {
        assertEquals(p.fill(), f.fill(), 1e-9 * Math.max(1, Math.abs(p.fill())), column);
      } else {
        assertFalse(f.fills(), column);
      }
      assertEquals(pooled.means()[j], federated.means()[j], 1e-9 * Math.max(1, Math.abs(pooled.means()[j])), column);
      assertEquals(pooled.stds()[j], federated.stds()[j], 1e-9 * pooled.stds()[j], column);
    }
  }

  @Test
  void meanFill_isTheMeanOfTheClippedObservedValues_andMedianFillIsWithinOneBinOfTheExactMedian() {
    FeatureEncoding encoding = federated(banks);
    int debt = 3;
    FeatureEncoding.NumericTreatment t = encoding.numericTreatments().get(debt);
    double sum = 0;
    int n = 0;
    List<Double> incomes = new ArrayList<>();
    for (int r = 0; r < all.rows(); r++) {
      double v = all.numeric(debt, r);
      if (!Double.isNaN(v)) {
        sum += Math.min(t.clipUpper(), Math.max(t.clipLower(), v));
        n++;
      }
      if (!Double.isNaN(all.numeric(1, r))) {
        incomes.add(all.numeric(1, r));
      }
    }
    assertEquals(sum / n, t.fill(), 1e-6 * t.fill());
    assertTrue(t.clipUpper() < 1e8, "the clip is below the largest debt");
    incomes.sort(null);
    double exact = incomes.get(incomes.size() / 2);
    double fill = encoding.numericTreatments().get(1).fill();
    int bin = QuantileGrid.bin(exact);
    assertTrue(Math.abs(fill - exact) <= QuantileGrid.upperEdge(bin) - QuantileGrid.lowerEdge(bin),
        "median fill " + fill + " vs exact median " + exact);
  }

  @Test
  void sentinelsAndMarkers_areMissingValues_filledAndFlaggedLikeEmptyFields() {
    FeatureEncoding encoding = federated(banks);
    List<String> names = encoding.featureNames();
    int incomeMissing = names.indexOf("income:missing");
    int homeMissing = names.indexOf("home:missing");
    assertTrue(incomeMissing > 0 && homeMissing > incomeMissing, names.toString());
    float[] row = new float[encoding.featureCount()];
    // 99999999 is income's sentinel: the loader made it missing, so it is filled with the median
    encoding.encodeRow(new double[] {40, Double.NaN, 1000, 2000}, new String[] {null, "salaried", "car"}, row, 0);
    double median = encoding.numericTreatments().get(1).fill();
    assertEquals((float) ((median - encoding.means()[1]) / encoding.stds()[1]), row[1]);
    assertEquals(1f, row[incomeMissing]);
    assertEquals(1f, row[homeMissing]);
    String mostFrequentHome = encoding.categoryFills().get(0);
    assertEquals(1f, row[names.indexOf("home=" + mostFrequentHome)]);
    assertFalse(encoding.categories().get(0).contains("unknown"), "a sentinel is not a category");
    long missingIncomes = 0;
    for (int r = 0; r < all.rows(); r++) {
      missingIncomes += Double.isNaN(all.numeric(1, r)) ? 1 : 0;
      assertTrue(Double.isNaN(all.numeric(1, r)) || all.numeric(1, r) != 99999999.0);
    }
    assertTrue(missingIncomes > 200, "about 9% empty plus the sentinel rows: " + missingIncomes);
  }

  @Test
  void aCategoryOnlyOneBankHas_goesToOther_andOnlyItsCountIsSummed() {
    List<Integer> boats = new ArrayList<>();
    for (Table bank : banks) {
      int n = 0;
      for (int r = 0; r < bank.rows(); r++) {
        n += "boat".equals(bank.category(2, r)) ? 1 : 0;
      }
      boats.add(n);
    }
    assertEquals(List.of(3, 0, 0), boats, "the rare purpose is at one bank");
    FeatureEncoding encoding = federated(banks);
    assertEquals(List.of("car", "tv", "business", "education", "home", "(other)"), encoding.categories().get(2));
    assertTrue(encoding.hasOtherLevel(2));
    float[] row = new float[encoding.featureCount()];
    encoding.encodeRow(new double[] {40, 50000, 1000, 2000}, new String[] {"own", "salaried", "boat"}, row, 0);
    assertEquals(1f, row[encoding.featureNames().indexOf("purpose=(other)")]);
    FeatureEncoding preliminary = FeatureEncoding.fromStatistics(LocalFeatureStats.sum(
        banks.stream().map(b -> LocalFeatureStats.compute(b).namesOnly(5)).toList()));
    long mapped = 0;
    List<int[]> vectors = new ArrayList<>();
    for (Table bank : banks) {
      RefinedFeatureStats s = RefinedFeatureStats.compute(bank, preliminary);
      mapped += s.mappedToOther(2, preliminary);
      vectors.add(FeatureStatsVector.encodeRefined(s, preliminary));
    }
    assertEquals(3, mapped);
    RefinedFeatureStats total = FeatureStatsVector.decodeRefined(preliminary, Limbs.sum(vectors), 3);
    assertEquals(3, total.mappedToOther(2, preliminary), "the consortium's count of rows mapped to other");
  }

  @Test
  void aSchemaWithoutPreprocessing_keepsItsVectorAndFeatures() {
    DataSchema plain = new DataSchema(List.of("age"), List.of(CategoricalColumn.open("purpose")), "Status", "bad");
    assertEquals(2 * Limbs.COUNT_LIMBS + Limbs.COUNT_LIMBS + 2 * Limbs.FIXED_LIMBS, FeatureStatsVector.length(plain));
    assertFalse(FeatureEncoding.needsSecondStage(plain));
  }

  @Test
  void aHostileEncoding_isRefusedNamingTheColumn_whenItsClipIsOffTheGridOrItsFillsDoNotFitTheRules() {
    FeatureEncoding good = federated(banks);
    List<FeatureEncoding.NumericTreatment> treatments = new ArrayList<>(good.numericTreatments());
    FeatureEncoding.NumericTreatment income = treatments.get(1);
    treatments.set(1, new FeatureEncoding.NumericTreatment(income.fill(), 50000.5, income.clipUpper()));
    IllegalArgumentException offGrid = assertThrows(IllegalArgumentException.class, () -> new FeatureEncoding(MESSY,
        good.means(), good.stds(), good.categories(), treatments, good.categoryFills()));
    assertEquals("column 'income': clip bounds [50000.5, " + income.clipUpper() + "] must be two increasing edges of "
        + "the quantile grid", offGrid.getMessage());

    treatments.set(1, income);
    treatments.set(0, new FeatureEncoding.NumericTreatment(41.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY));
    IllegalArgumentException fillOnRefused = assertThrows(IllegalArgumentException.class, () -> new FeatureEncoding(
        MESSY, good.means(), good.stds(), good.categories(), treatments, good.categoryFills()));
    assertEquals("column 'age': its missing values are refused, so it takes no fill value, got 41.0",
        fillOnRefused.getMessage());

    List<String> fills = new ArrayList<>(good.categoryFills());
    fills.set(1, "salaried");
    IllegalArgumentException notTheConstant = assertThrows(IllegalArgumentException.class, () -> new FeatureEncoding(
        MESSY, good.means(), good.stds(), good.categories(), good.numericTreatments(), fills));
    assertEquals("column 'job': the fill category 'salaried' is not the job's constant '(none)'",
        notTheConstant.getMessage());
  }

  @Test
  void theQuantileGrid_sortsEveryValueIntoTheBinBetweenItsEdges() {
    double[] values = {0, 1e-7, -1e-7, 1e-6, 0.35, 1, 9.99, 10, 42, 45000, 99999999, 1e14, 1e16, -3.5, -250000};
    for (double v : values) {
      int bin = QuantileGrid.bin(v);
      assertTrue(QuantileGrid.lowerEdge(bin) <= v && (v < QuantileGrid.upperEdge(bin) || v >= 1e15
          || (v < 0 && v <= QuantileGrid.upperEdge(bin))), v + " in bin " + bin);
    }
    for (int b = 1; b < QuantileGrid.BINS; b++) {
      assertTrue(QuantileGrid.lowerEdge(b) >= QuantileGrid.upperEdge(b - 1) - 1e-9 * Math.abs(QuantileGrid.upperEdge(b - 1)));
      assertTrue(QuantileGrid.isEdge(QuantileGrid.lowerEdge(b)));
    }
    assertFalse(QuantileGrid.isEdge(50000.5));
    long[] counts = new long[QuantileGrid.BINS];
    counts[QuantileGrid.bin(10)] = 50;
    counts[QuantileGrid.bin(20)] = 50;
    double median = QuantileGrid.quantile(counts, 0.5);
    assertTrue(median >= 10 && median < 10.3, "the median sits in 10's bin: " + median);
    assertArrayEquals(new double[] {QuantileGrid.lowerEdge(QuantileGrid.bin(10))},
        new double[] {QuantileGrid.lowerClip(counts, 0.01)});
  }
}
