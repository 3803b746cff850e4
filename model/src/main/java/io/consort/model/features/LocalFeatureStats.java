package io.consort.model.features;

import io.consort.model.data.QuantileGrid;
import io.consort.model.data.DataSchema;
import io.consort.model.data.Table;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one bank's rows say for the shared feature encoding (the first statistics stage): sums over
 * its rows (so they can be secure-aggregated), never a row.
 *
 * @param numeric per numeric column (schema order): count of observed values, their sum and sum of
 *     squares, the count of missing values and, when the column needs quantiles (median imputation,
 *     clipping), its {@link QuantileHistogram}
 * @param categoryCounts per categorical column (schema order): observed category to row count
 * @param categoricalMissing per categorical column (schema order): rows where it is missing
 */
public record LocalFeatureStats(
    DataSchema schema,
    long rows,
    long positives,
    List<NumericStats> numeric,
    List<SortedMap<String, Long>> categoryCounts,
    List<Long> categoricalMissing) {

  /** Sufficient statistics of one numeric column. */
  public record NumericStats(String column, long count, double sum, double sumOfSquares, long missing,
                             Optional<QuantileHistogram> histogram) {
    public NumericStats {
      Objects.requireNonNull(column, "column");
      Objects.requireNonNull(histogram, "histogram");
      if (count < 0 || missing < 0 || !Double.isFinite(sum) || !Double.isFinite(sumOfSquares)
          || sumOfSquares < 0) {
        throw new IllegalArgumentException("invalid statistics for column '" + column + "': count="
            + count + " missing=" + missing + " sum=" + sum + " sumOfSquares=" + sumOfSquares);
      }
      if (histogram.isPresent() && histogram.get().total() != count) {
        throw new IllegalArgumentException("column '" + column + "': its quantile histogram counts "
            + histogram.get().total() + " values but the column has " + count);
      }
    }

    /** Without missing values or a histogram. */
    public NumericStats(String column, long count, double sum, double sumOfSquares) {
      this(column, count, sum, sumOfSquares, 0, Optional.empty());
    }
  }

  public LocalFeatureStats {
    Objects.requireNonNull(schema, "schema");
    numeric = List.copyOf(numeric);
    List<SortedMap<String, Long>> copies = new ArrayList<>();
    categoryCounts.forEach(m -> copies.add(Collections.unmodifiableSortedMap(new TreeMap<>(m))));
    categoryCounts = List.copyOf(copies);
    categoricalMissing = List.copyOf(categoricalMissing);
    if (rows < 0 || positives < 0 || positives > rows) {
      throw new IllegalArgumentException("invalid counts: rows=" + rows + " positives=" + positives);
    }
    if (numeric.size() != schema.numericColumns().size()
        || categoryCounts.size() != schema.categoricalColumns().size()
        || categoricalMissing.size() != schema.categoricalColumns().size()) {
      throw new IllegalArgumentException("statistics do not match the schema's column counts");
    }
    for (int j = 0; j < numeric.size(); j++) {
      if (!numeric.get(j).column().equals(schema.numericColumns().get(j))) {
        throw new IllegalArgumentException("numeric statistics " + j + " are for column '"
            + numeric.get(j).column() + "', the schema has '" + schema.numericColumns().get(j) + "'");
      }
    }
    for (long missing : categoricalMissing) {
      if (missing < 0) {
        throw new IllegalArgumentException("a missing count is negative: " + missing);
      }
    }
  }

  /** Statistics of data without missing values. */
  public LocalFeatureStats(DataSchema schema, long rows, long positives, List<NumericStats> numeric,
                           List<SortedMap<String, Long>> categoryCounts) {
    this(schema, rows, positives, numeric, categoryCounts,
        Collections.nCopies(schema.categoricalColumns().size(), 0L));
  }

  /** One pass over the table. */
  public static LocalFeatureStats compute(Table table) {
    Accumulator acc = new Accumulator(table.schema());
    int numeric = table.schema().numericColumns().size();
    int categorical = table.schema().categoricalColumns().size();
    double[] values = new double[numeric];
    String[] categories = new String[categorical];
    for (int r = 0; r < table.rows(); r++) {
      for (int j = 0; j < numeric; j++) {
        values[j] = table.numeric(j, r);
      }
      for (int j = 0; j < categorical; j++) {
        categories[j] = table.category(j, r);
      }
      acc.add(values, categories, !table.schema().isNumericLabel() && table.isPositive(r));
    }
    return acc.result();
  }

  /**
   * Adds rows one at a time (as {@link io.consort.model.data.DatasetLoader#scan} delivers them) and
   * gives their statistics: a bank with millions of rows computes them while streaming its data.
   */
  public static final class Accumulator {
    private final DataSchema schema;
    private final long[] count;
    private final double[] sum;
    private final double[] sumOfSquares;
    private final long[] missing;
    private final long[][] histograms;
    private final List<Map<String, long[]>> categoryCounts = new ArrayList<>();
    private final long[] categoricalMissing;
    private long rows;
    private long positives;

    public Accumulator(DataSchema schema) {
      this.schema = schema;
      int numeric = schema.numericColumns().size();
      count = new long[numeric];
      sum = new double[numeric];
      sumOfSquares = new double[numeric];
      missing = new long[numeric];
      histograms = new long[numeric][];
      for (int j = 0; j < numeric; j++) {
        if (schema.numericRules(j).needsQuantiles()) {
          histograms[j] = new long[QuantileGrid.BINS];
        }
      }
      schema.categoricalColumns().forEach(c -> categoryCounts.add(new HashMap<>()));
      categoricalMissing = new long[schema.categoricalColumns().size()];
    }

    /** One row: numeric values (NaN: missing) and categories (null: missing) in schema order. */
    public void add(double[] numeric, String[] categories, boolean positive) {
      rows++;
      if (positive) {
        positives++;
      }
      for (int j = 0; j < count.length; j++) {
        double v = numeric[j];
        if (Double.isNaN(v)) {
          missing[j]++;
          continue;
        }
        count[j]++;
        sum[j] += v;
        sumOfSquares[j] += v * v;
        if (histograms[j] != null) {
          histograms[j][QuantileGrid.bin(v)]++;
        }
      }
      for (int j = 0; j < categoricalMissing.length; j++) {
        String c = categories[j];
        if (c == null) {
          categoricalMissing[j]++;
        } else {
          categoryCounts.get(j).computeIfAbsent(c, k -> new long[1])[0]++;
        }
      }
    }

    public LocalFeatureStats result() {
      List<NumericStats> numeric = new ArrayList<>();
      for (int j = 0; j < count.length; j++) {
        numeric.add(new NumericStats(schema.numericColumns().get(j), count[j], sum[j], sumOfSquares[j], missing[j],
            histograms[j] == null ? Optional.empty() : Optional.of(new QuantileHistogram(histograms[j]))));
      }
      List<SortedMap<String, Long>> counts = new ArrayList<>();
      for (Map<String, long[]> column : categoryCounts) {
        SortedMap<String, Long> m = new TreeMap<>();
        column.forEach((category, n) -> m.put(category, n[0]));
        counts.add(m);
      }
      List<Long> catMissing = new ArrayList<>();
      for (long m : categoricalMissing) {
        catMissing.add(m);
      }
      return new LocalFeatureStats(schema, rows, positives, numeric, counts, catMissing);
    }
  }

  /**
   * The fewest training rows a category of an open column needs before its bank names it to the
   * coordinator: a value that only one or two customers have can identify them, so rarer values are
   * left unnamed (they encode as no category of that column, or as its "other" level).
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
    return new LocalFeatureStats(schema, rows, positives, numeric, names, categoricalMissing);
  }

  /** Category counts of one column, keyed by category, sorted. */
  public Map<String, Long> categoryCounts(int column) {
    return categoryCounts.get(column);
  }

  /** The statistics of several banks' rows together: sums and counts added, category counts merged. */
  public static LocalFeatureStats sum(List<LocalFeatureStats> banks) {
    if (banks.isEmpty()) {
      throw new IllegalArgumentException("no bank statistics to merge");
    }
    DataSchema schema = banks.get(0).schema();
    int numeric = schema.numericColumns().size();
    int categorical = schema.categoricalColumns().size();
    long rows = 0;
    long positives = 0;
    long[] count = new long[numeric];
    double[] sum = new double[numeric];
    double[] sumOfSquares = new double[numeric];
    long[] missing = new long[numeric];
    long[][] histograms = new long[numeric][];
    List<SortedMap<String, Long>> counts = new ArrayList<>();
    long[] catMissing = new long[categorical];
    for (int j = 0; j < categorical; j++) {
      counts.add(new TreeMap<>());
    }
    for (int b = 0; b < banks.size(); b++) {
      LocalFeatureStats bank = banks.get(b);
      if (!bank.schema().equals(schema)) {
        throw new IllegalArgumentException("bank statistics " + b
            + " were computed with a different schema than bank statistics 0");
      }
      rows += bank.rows();
      positives += bank.positives();
      for (int j = 0; j < numeric; j++) {
        NumericStats n = bank.numeric().get(j);
        count[j] += n.count();
        sum[j] += n.sum();
        sumOfSquares[j] += n.sumOfSquares();
        missing[j] += n.missing();
        if (n.histogram().isPresent()) {
          long[] h = n.histogram().get().counts();
          if (histograms[j] == null) {
            histograms[j] = new long[h.length];
          }
          for (int i = 0; i < h.length; i++) {
            histograms[j][i] += h[i];
          }
        }
      }
      for (int j = 0; j < categorical; j++) {
        SortedMap<String, Long> total = counts.get(j);
        bank.categoryCounts(j).forEach((category, n) -> total.merge(category, n, Long::sum));
        catMissing[j] += bank.categoricalMissing().get(j);
      }
    }
    List<NumericStats> numericStats = new ArrayList<>();
    for (int j = 0; j < numeric; j++) {
      numericStats.add(new NumericStats(schema.numericColumns().get(j), count[j], sum[j], sumOfSquares[j],
          missing[j], histograms[j] == null ? Optional.empty() : Optional.of(new QuantileHistogram(histograms[j]))));
    }
    List<Long> categoricalMissing = new ArrayList<>();
    for (long m : catMissing) {
      categoricalMissing.add(m);
    }
    return new LocalFeatureStats(schema, rows, positives, numericStats, counts, categoricalMissing);
  }
}
