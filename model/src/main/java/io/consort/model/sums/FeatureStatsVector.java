package io.consort.model.sums;

import io.consort.model.data.DataSchema;
import io.consort.model.features.LocalFeatureStats;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A bank's feature statistics as a secure-sum vector: its training rows and positives, and per
 * numeric column the count, sum and sum of squares. Category counts are not in it: the shared
 * encoding needs only which categories exist (declared in the schema, or named by the banks).
 */
public final class FeatureStatsVector {
  private FeatureStatsVector() {}

  /** Slots for {@code schema}. */
  public static int length(DataSchema schema) {
    return 2 * Limbs.COUNT_LIMBS + schema.numericColumns().size() * (Limbs.COUNT_LIMBS + 2 * Limbs.FIXED_LIMBS);
  }

  public static int[] encode(LocalFeatureStats stats) {
    Limbs.Writer w = new Limbs.Writer(length(stats.schema())).count("rows", stats.rows())
        .count("positives", stats.positives());
    for (LocalFeatureStats.NumericStats n : stats.numeric()) {
      w.count("count of column '" + n.column() + "'", n.count()).fixed("sum of column '" + n.column() + "'", n.sum())
          .fixed("sum of squares of column '" + n.column() + "'", n.sumOfSquares());
    }
    return w.finish();
  }

  /**
   * The consortium's statistics from the secure sum of {@code banks} vectors, with {@code categories}
   * (per categorical column, the agreed names) standing for the categories that exist; their counts
   * are not known and read 0.
   */
  public static LocalFeatureStats decode(DataSchema schema, int[] sum, int banks, List<List<String>> categories) {
    if (sum.length != length(schema)) {
      throw new IllegalArgumentException("the sum has " + sum.length + " slots but the schema's statistics take "
          + length(schema));
    }
    Limbs.Reader r = new Limbs.Reader(sum, banks);
    long rows = r.count();
    long positives = r.count();
    List<LocalFeatureStats.NumericStats> numeric = new ArrayList<>();
    for (String column : schema.numericColumns()) {
      numeric.add(new LocalFeatureStats.NumericStats(column, r.count(), r.fixed(), Math.max(0, r.fixed())));
    }
    r.requireEnd();
    List<SortedMap<String, Long>> counts = new ArrayList<>();
    for (List<String> names : categories) {
      SortedMap<String, Long> m = new TreeMap<>();
      names.forEach(name -> m.put(name, 0L));
      counts.add(m);
    }
    return new LocalFeatureStats(schema, rows, positives, numeric, counts);
  }
}
