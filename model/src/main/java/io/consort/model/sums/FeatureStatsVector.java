package io.consort.model.sums;

import io.consort.model.data.QuantileGrid;
import io.consort.model.data.DataSchema;
import io.consort.model.data.Imputation;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.features.QuantileHistogram;
import io.consort.model.features.RefinedFeatureStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A bank's feature statistics as secure-sum vectors, one per statistics stage.
 *
 * <p>First stage: its training rows and positives, per numeric column the count of observed values,
 * their sum and sum of squares; then, for the columns whose preprocessing needs them, the count of
 * missing values (a column that imputes) and the {@link QuantileGrid} histogram of observed values (a
 * column that imputes its median or clips), and per categorical column that imputes its count of
 * missing values. Category counts are not in it: the encoding needs only which categories exist
 * (declared in the schema, or named by the banks). A schema without preprocessing has exactly the
 * vector it always had.
 *
 * <p>Second stage ({@link FeatureEncoding#needsSecondStage}): rows, positives, per numeric column the
 * count, the sum and sum of squares of the values clipped to the first stage's bounds, the missing
 * count (a column that imputes); per categorical column that imputes its most frequent category or
 * maps unseen values to "other", its rows per level of the first stage's encoding, "other" last.
 */
public final class FeatureStatsVector {
  private FeatureStatsVector() {}

  /**
   * The training rows a summed vector of either stage counts (its first slot), {@code banks} vectors summed: what
   * the coordinator checks the banks' row counts in the clear against.
   */
  public static long rows(int[] sum, int banks) {
    return new Limbs.Reader(sum, banks).count();
  }

  /** Slots of the first stage's vector for {@code schema}. */
  public static int length(DataSchema schema) {
    int length = 2 * Limbs.COUNT_LIMBS
        + schema.numericColumns().size() * (Limbs.COUNT_LIMBS + 2 * Limbs.FIXED_LIMBS);
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      length += (imputes(schema, j) ? Limbs.COUNT_LIMBS : 0)
          + (schema.numericRules(j).needsQuantiles() ? QuantileGrid.BINS * Limbs.COUNT_LIMBS : 0);
    }
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      length += categoricalImputes(schema, j) ? Limbs.COUNT_LIMBS : 0;
    }
    return length;
  }

  private static boolean imputes(DataSchema schema, int numericColumn) {
    return schema.numericRules(numericColumn).imputation() != Imputation.REFUSE;
  }

  private static boolean categoricalImputes(DataSchema schema, int column) {
    return schema.categoricalRules(column).imputation() != Imputation.REFUSE;
  }

  public static int[] encode(LocalFeatureStats stats) {
    DataSchema schema = stats.schema();
    Limbs.Writer w = new Limbs.Writer(length(schema)).count("rows", stats.rows())
        .count("positives", stats.positives());
    for (LocalFeatureStats.NumericStats n : stats.numeric()) {
      w.count("count of column '" + n.column() + "'", n.count()).fixed("sum of column '" + n.column() + "'", n.sum())
          .fixed("sum of squares of column '" + n.column() + "'", n.sumOfSquares());
    }
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      LocalFeatureStats.NumericStats n = stats.numeric().get(j);
      if (imputes(schema, j)) {
        w.count("missing values of column '" + n.column() + "'", n.missing());
      }
      if (schema.numericRules(j).needsQuantiles()) {
        QuantileHistogram h = n.histogram().orElseThrow(() -> new IllegalArgumentException("column '" + n.column()
            + "' needs a quantile histogram"));
        for (long c : h.counts()) {
          w.count("histogram count of column '" + n.column() + "'", c);
        }
      }
    }
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      if (categoricalImputes(schema, j)) {
        w.count("missing values of column '" + schema.categoricalColumns().get(j).name() + "'",
            stats.categoricalMissing().get(j));
      }
    }
    return w.finish();
  }

  /**
   * The consortium's statistics from the secure sum of {@code banks} first-stage vectors, with {@code
   * categories} (per categorical column, the agreed names) standing for the categories that exist; their
   * counts are not known and read 0.
   */
  public static LocalFeatureStats decode(DataSchema schema, int[] sum, int banks, List<List<String>> categories) {
    if (sum.length != length(schema)) {
      throw new IllegalArgumentException("the sum has " + sum.length + " slots but the schema's statistics take "
          + length(schema));
    }
    Limbs.Reader r = new Limbs.Reader(sum, banks);
    long rows = r.count();
    long positives = r.count();
    int numeric = schema.numericColumns().size();
    long[] count = new long[numeric];
    double[] total = new double[numeric];
    double[] squares = new double[numeric];
    for (int j = 0; j < numeric; j++) {
      count[j] = r.count();
      total[j] = r.fixed();
      squares[j] = Math.max(0, r.fixed());
    }
    List<LocalFeatureStats.NumericStats> numericStats = new ArrayList<>();
    for (int j = 0; j < numeric; j++) {
      long missing = imputes(schema, j) ? r.count() : 0;
      Optional<QuantileHistogram> histogram = Optional.empty();
      if (schema.numericRules(j).needsQuantiles()) {
        long[] counts = new long[QuantileGrid.BINS];
        for (int b = 0; b < counts.length; b++) {
          counts[b] = r.count();
        }
        histogram = Optional.of(new QuantileHistogram(counts));
      }
      numericStats.add(new LocalFeatureStats.NumericStats(schema.numericColumns().get(j), count[j], total[j],
          squares[j], missing, histogram));
    }
    List<Long> categoricalMissing = new ArrayList<>();
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      categoricalMissing.add(categoricalImputes(schema, j) ? r.count() : 0L);
    }
    r.requireEnd();
    List<SortedMap<String, Long>> counts = new ArrayList<>();
    for (List<String> names : categories) {
      SortedMap<String, Long> m = new TreeMap<>();
      names.forEach(name -> m.put(name, 0L));
      counts.add(m);
    }
    return new LocalFeatureStats(schema, rows, positives, numericStats, counts, categoricalMissing);
  }

  /** Slots of the second stage's vector against the first stage's encoding. */
  public static int refinedLength(FeatureEncoding preliminary) {
    DataSchema schema = preliminary.schema();
    int length = 2 * Limbs.COUNT_LIMBS
        + schema.numericColumns().size() * (Limbs.COUNT_LIMBS + 2 * Limbs.FIXED_LIMBS);
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      length += imputes(schema, j) ? Limbs.COUNT_LIMBS : 0;
    }
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      if (schema.categoricalRules(j).needsCounts()) {
        length += levels(preliminary, j) * Limbs.COUNT_LIMBS;
      }
    }
    return length;
  }

  private static int levels(FeatureEncoding encoding, int column) {
    return encoding.categories().get(column).size();
  }

  public static int[] encodeRefined(RefinedFeatureStats stats, FeatureEncoding preliminary) {
    DataSchema schema = preliminary.schema();
    if (!stats.schema().equals(schema)) {
      throw new IllegalArgumentException("second-stage statistics of another schema than the encoding's");
    }
    Limbs.Writer w = new Limbs.Writer(refinedLength(preliminary)).count("rows", stats.rows())
        .count("positives", stats.positives());
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      LocalFeatureStats.NumericStats n = stats.numeric().get(j);
      w.count("count of column '" + n.column() + "'", n.count())
          .fixed("clipped sum of column '" + n.column() + "'", n.sum())
          .fixed("clipped sum of squares of column '" + n.column() + "'", n.sumOfSquares());
      if (imputes(schema, j)) {
        w.count("missing values of column '" + n.column() + "'", n.missing());
      }
    }
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      if (schema.categoricalRules(j).needsCounts()) {
        List<Long> counts = stats.levelCounts().get(j).orElseThrow();
        if (counts.size() != levels(preliminary, j)) {
          throw new IllegalArgumentException("column '" + schema.categoricalColumns().get(j).name() + "' has "
              + counts.size() + " level counts for " + levels(preliminary, j) + " levels");
        }
        for (long c : counts) {
          w.count("category count of column '" + schema.categoricalColumns().get(j).name() + "'", c);
        }
      }
    }
    return w.finish();
  }

  /** The consortium's second-stage statistics from the secure sum of {@code banks} vectors. */
  public static RefinedFeatureStats decodeRefined(FeatureEncoding preliminary, int[] sum, int banks) {
    DataSchema schema = preliminary.schema();
    if (sum.length != refinedLength(preliminary)) {
      throw new IllegalArgumentException("the sum has " + sum.length + " slots but the second-stage statistics "
          + "take " + refinedLength(preliminary));
    }
    Limbs.Reader r = new Limbs.Reader(sum, banks);
    long rows = r.count();
    long positives = r.count();
    List<LocalFeatureStats.NumericStats> numeric = new ArrayList<>();
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      long count = r.count();
      double total = r.fixed();
      double squares = Math.max(0, r.fixed());
      long missing = imputes(schema, j) ? r.count() : 0;
      numeric.add(new LocalFeatureStats.NumericStats(schema.numericColumns().get(j), count, total, squares, missing,
          Optional.empty()));
    }
    List<Optional<List<Long>>> levelCounts = new ArrayList<>();
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      if (schema.categoricalRules(j).needsCounts()) {
        List<Long> counts = new ArrayList<>();
        for (int k = 0; k < levels(preliminary, j); k++) {
          counts.add(r.count());
        }
        levelCounts.add(Optional.of(counts));
      } else {
        levelCounts.add(Optional.empty());
      }
    }
    r.requireEnd();
    return new RefinedFeatureStats(schema, rows, positives, numeric, levelCounts);
  }
}
