package io.consort.model.features;

import io.consort.model.data.DataSchema;
import io.consort.model.data.Table;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What one bank's rows say in the second statistics stage, which a job's preprocessing needs when a
 * column clips or counts its categories ({@link FeatureEncoding#needsSecondStage}): computed against
 * the preliminary encoding the first stage agreed, so the sums are of clipped values and the counts
 * are per agreed level. Sums over rows, secure-aggregated like the first stage's.
 *
 * @param numeric per numeric column: count of observed values, sum and sum of squares of the values as
 *     clipped to the preliminary encoding's bounds, count of missing values (no histogram)
 * @param levelCounts per categorical column that imputes its most frequent category or maps unseen
 *     values to "other": rows per level of the preliminary encoding (its categories, then "other" if it
 *     has that level); empty for the other columns
 */
public record RefinedFeatureStats(DataSchema schema, long rows, long positives,
                                  List<LocalFeatureStats.NumericStats> numeric,
                                  List<Optional<List<Long>>> levelCounts) {
  public RefinedFeatureStats {
    Objects.requireNonNull(schema, "schema");
    numeric = List.copyOf(numeric);
    List<Optional<List<Long>>> copies = new ArrayList<>();
    levelCounts.forEach(c -> copies.add(c.map(List::copyOf)));
    levelCounts = Collections.unmodifiableList(copies);
    if (numeric.size() != schema.numericColumns().size() || levelCounts.size() != schema.categoricalColumns().size()) {
      throw new IllegalArgumentException("second-stage statistics do not match the schema's column counts");
    }
    for (int j = 0; j < levelCounts.size(); j++) {
      if (levelCounts.get(j).isPresent() != schema.categoricalRules(j).needsCounts()) {
        throw new IllegalArgumentException("column '" + schema.categoricalColumns().get(j).name() + "': category "
            + "counts are " + (levelCounts.get(j).isPresent() ? "present but not needed" : "needed but absent"));
      }
    }
  }

  /** Of the rows of {@code table}, against {@code preliminary}. */
  public static RefinedFeatureStats compute(Table table, FeatureEncoding preliminary) {
    Accumulator acc = new Accumulator(preliminary);
    int numeric = table.schema().numericColumns().size();
    double[] values = new double[numeric];
    String[] categories = new String[table.schema().categoricalColumns().size()];
    for (int r = 0; r < table.rows(); r++) {
      for (int j = 0; j < numeric; j++) {
        values[j] = table.numeric(j, r);
      }
      for (int j = 0; j < categories.length; j++) {
        categories[j] = table.category(j, r);
      }
      acc.add(values, categories, !table.schema().isNumericLabel() && table.isPositive(r));
    }
    return acc.result();
  }

  /** The rows of several banks together. */
  public static RefinedFeatureStats sum(List<RefinedFeatureStats> banks) {
    RefinedFeatureStats first = banks.get(0);
    DataSchema schema = first.schema();
    long rows = 0;
    long positives = 0;
    int numeric = schema.numericColumns().size();
    long[] count = new long[numeric];
    double[] sum = new double[numeric];
    double[] squares = new double[numeric];
    long[] missing = new long[numeric];
    List<long[]> levels = new ArrayList<>();
    first.levelCounts().forEach(c -> levels.add(c.isPresent() ? new long[c.get().size()] : null));
    for (RefinedFeatureStats bank : banks) {
      if (!bank.schema().equals(schema)) {
        throw new IllegalArgumentException("second-stage statistics of different schemas");
      }
      rows += bank.rows();
      positives += bank.positives();
      for (int j = 0; j < numeric; j++) {
        LocalFeatureStats.NumericStats n = bank.numeric().get(j);
        count[j] += n.count();
        sum[j] += n.sum();
        squares[j] += n.sumOfSquares();
        missing[j] += n.missing();
      }
      for (int j = 0; j < levels.size(); j++) {
        if (levels.get(j) != null) {
          List<Long> c = bank.levelCounts().get(j).orElseThrow();
          if (c.size() != levels.get(j).length) {
            throw new IllegalArgumentException("second-stage statistics with different category lists");
          }
          for (int k = 0; k < c.size(); k++) {
            levels.get(j)[k] += c.get(k);
          }
        }
      }
    }
    return of(schema, rows, positives, count, sum, squares, missing, levels);
  }

  private static RefinedFeatureStats of(DataSchema schema, long rows, long positives, long[] count, double[] sum,
                                        double[] squares, long[] missing, List<long[]> levels) {
    List<LocalFeatureStats.NumericStats> numeric = new ArrayList<>();
    for (int j = 0; j < count.length; j++) {
      numeric.add(new LocalFeatureStats.NumericStats(schema.numericColumns().get(j), count[j], sum[j], squares[j],
          missing[j], Optional.empty()));
    }
    List<Optional<List<Long>>> counts = new ArrayList<>();
    for (long[] c : levels) {
      counts.add(c == null ? Optional.empty() : Optional.of(java.util.Arrays.stream(c).boxed().toList()));
    }
    return new RefinedFeatureStats(schema, rows, positives, numeric, counts);
  }

  /** Rows mapped to categorical column {@code column}'s "other" level (0 without one). */
  public long mappedToOther(int column, FeatureEncoding encoding) {
    if (!encoding.hasOtherLevel(column)) {
      return 0;
    }
    return levelCounts.get(column).orElseThrow().get(encoding.otherLevel(column));
  }

  /** Adds rows one at a time, as the bank streams them. */
  public static final class Accumulator {
    private final FeatureEncoding preliminary;
    private final long[] count;
    private final double[] sum;
    private final double[] squares;
    private final long[] missing;
    private final List<long[]> levels = new ArrayList<>();
    private long rows;
    private long positives;

    public Accumulator(FeatureEncoding preliminary) {
      this.preliminary = preliminary;
      DataSchema schema = preliminary.schema();
      int numeric = schema.numericColumns().size();
      count = new long[numeric];
      sum = new double[numeric];
      squares = new double[numeric];
      missing = new long[numeric];
      for (int j = 0; j < schema.categoricalColumns().size(); j++) {
        levels.add(schema.categoricalRules(j).needsCounts()
            ? new long[preliminary.categories().get(j).size()] : null);
      }
    }

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
        v = preliminary.numericTreatments().get(j).clip(v);
        count[j]++;
        sum[j] += v;
        squares[j] += v * v;
      }
      for (int j = 0; j < levels.size(); j++) {
        long[] c = levels.get(j);
        if (c != null && categories[j] != null) {
          int level = preliminary.level(j, categories[j]);
          if (level >= 0) {
            c[level]++;
          }
        }
      }
    }

    public RefinedFeatureStats result() {
      return of(preliminary.schema(), rows, positives, count, sum, squares, missing, levels);
    }
  }
}
