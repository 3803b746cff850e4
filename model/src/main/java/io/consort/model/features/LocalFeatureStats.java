package io.consort.model.features;

import io.consort.model.data.DataSchema;
import io.consort.model.data.Table;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one bank reveals to build the shared feature encoding: sufficient statistics that are sums
 * over its rows (so they could also be secure-aggregated), never a row.
 *
 * @param numeric per numeric column (schema order): count, sum and sum of squares
 * @param categoryCounts per categorical column (schema order): observed category to row count
 */
public record LocalFeatureStats(
    DataSchema schema,
    long rows,
    long positives,
    List<NumericStats> numeric,
    List<SortedMap<String, Long>> categoryCounts) {

  /** Sufficient statistics of one numeric column. */
  public record NumericStats(String column, long count, double sum, double sumOfSquares) {
    public NumericStats {
      Objects.requireNonNull(column, "column");
      if (count < 0 || !Double.isFinite(sum) || !Double.isFinite(sumOfSquares) || sumOfSquares < 0) {
        throw new IllegalArgumentException("invalid statistics for column '" + column + "': count="
            + count + " sum=" + sum + " sumOfSquares=" + sumOfSquares);
      }
    }
  }

  public LocalFeatureStats {
    Objects.requireNonNull(schema, "schema");
    numeric = List.copyOf(numeric);
    List<SortedMap<String, Long>> copies = new ArrayList<>();
    categoryCounts.forEach(m -> copies.add(Collections.unmodifiableSortedMap(new TreeMap<>(m))));
    categoryCounts = List.copyOf(copies);
    if (rows < 0 || positives < 0 || positives > rows) {
      throw new IllegalArgumentException("invalid counts: rows=" + rows + " positives=" + positives);
    }
    if (numeric.size() != schema.numericColumns().size()
        || categoryCounts.size() != schema.categoricalColumns().size()) {
      throw new IllegalArgumentException("statistics do not match the schema's column counts");
    }
    for (int j = 0; j < numeric.size(); j++) {
      if (!numeric.get(j).column().equals(schema.numericColumns().get(j))) {
        throw new IllegalArgumentException("numeric statistics " + j + " are for column '"
            + numeric.get(j).column() + "', the schema has '" + schema.numericColumns().get(j) + "'");
      }
    }
  }

  /** One pass over the table. */
  public static LocalFeatureStats compute(Table table) {
    DataSchema schema = table.schema();
    List<NumericStats> numeric = new ArrayList<>();
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      double sum = 0;
      double sumOfSquares = 0;
      for (int r = 0; r < table.rows(); r++) {
        double v = table.numeric(j, r);
        sum += v;
        sumOfSquares += v * v;
      }
      numeric.add(new NumericStats(schema.numericColumns().get(j), table.rows(), sum, sumOfSquares));
    }
    List<SortedMap<String, Long>> counts = new ArrayList<>();
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      long[] byCode = new long[table.observedCategories(j).size()];
      for (int r = 0; r < table.rows(); r++) {
        byCode[table.categoryCode(j, r)]++;
      }
      SortedMap<String, Long> map = new TreeMap<>();
      for (int code = 0; code < byCode.length; code++) {
        map.put(table.observedCategories(j).get(code), byCode[code]);
      }
      counts.add(map);
    }
    return new LocalFeatureStats(schema, table.rows(), table.positives(), numeric, counts);
  }

  /**
   * The fewest training rows a category of an open column needs before its bank names it to the
   * coordinator: a value that only one or two customers have can identify them, so rarer values are
   * left unnamed (they encode as no category of that column).
   */
  public static final int MIN_NAMED_CATEGORY_ROWS = 5;

  /**
   * What a bank releases about its categories: per column, the categories with at least {@code
   * minRows} rows, each with count 0 (the encoding needs the names, not the counts). Declared columns
   * release nothing: their categories are the schema's.
   */
  public LocalFeatureStats namesOnly(int minRows) {
    List<SortedMap<String, Long>> names = new ArrayList<>();
    for (int j = 0; j < categoryCounts.size(); j++) {
      SortedMap<String, Long> m = new TreeMap<>();
      if (!schema.categoricalColumns().get(j).isDeclared()) {
        categoryCounts.get(j).forEach((name, count) -> {
          if (count >= minRows) {
            m.put(name, 0L);
          }
        });
      }
      names.add(m);
    }
    return new LocalFeatureStats(schema, rows, positives, numeric, names);
  }

  /** Category counts of one column, keyed by category, sorted. */
  public Map<String, Long> categoryCounts(int column) {
    return categoryCounts.get(column);
  }
}
