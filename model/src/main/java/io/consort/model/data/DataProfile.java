package io.consort.model.data;

import io.consort.model.data.DataSchema.CategoricalColumn;
import io.consort.model.data.RecordReader.DeclaredType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * A first look at a bank's data, taken at the bank: per column its type, missing values, range or
 * category levels, and values that look like sentinels; and from it a proposed {@link DataSchema} with
 * preprocessing rules that an operator reviews and merges into a job. Nothing here leaves the bank:
 * the profile is printed for the operator, who decides what goes into a job file.
 *
 * <p>Types: an ARFF column keeps its declared type and a query's numeric SQL column is numeric;
 * otherwise a column is numeric when every present value, apart from missing-value markers such as
 * {@code NA}, is a finite number. A categorical column with more than {@value #MAX_LEVELS} distinct
 * values, or distinct in most rows, looks like an identifier or free text and is left out of the
 * proposal.
 */
public final class DataProfile {
  /** Distinct values tracked per column; a column with more is not proposed as categorical. */
  public static final int MAX_LEVELS = 1000;
  /** Texts that usually mean "missing" in an exported table (compared regardless of case). */
  static final Set<String> MISSING_MARKERS = Set.of("na", "n/a", "nan", "null", "none", "?", "unknown", "missing",
      "-");
  /** Column names that say "identifier": id, ID, customer_id, loan-id, id_number. */
  private static final java.util.regex.Pattern IDENTIFIER_NAME =
      java.util.regex.Pattern.compile("(?i)(id|.*[_\\- ]id|id[_\\- ].*)");
  /** A missing rate from which the proposal adds a missing indicator: missingness that common can carry signal. */
  private static final double INDICATOR_RATE = 0.01;

  /** What the proposal includes. */
  public enum Proposal {
    /** Column types only, no preprocessing rules. */
    TYPES_ONLY,
    /** Types and rules: fills for missing values, suspected sentinels, clipping of heavy tails, "other" levels. */
    WITH_PREPROCESSING
  }

  /**
   * One column as profiled.
   *
   * @param present rows with a value (sentinels included)
   * @param missing rows with an empty field or NULL
   * @param sentinelRows rows whose value is a suspected sentinel (numeric or text)
   * @param min the smallest number (numeric columns; sentinels included)
   * @param p01 the 1% quantile, from the column's {@link QuantileGrid} histogram
   *     without the suspected sentinels; likewise {@code median} and {@code p99}
   * @param levels distinct values and their rows, most frequent first (up to {@value #MAX_LEVELS})
   */
  public record ColumnProfile(String name, boolean numeric, long present, long missing, long sentinelRows,
                              OptionalDouble min, OptionalDouble max, OptionalDouble mean, OptionalDouble p01,
                              OptionalDouble median, OptionalDouble p99, Map<String, Long> levels,
                              boolean manyLevels, List<Double> suspectedSentinels, List<String> suspectedTextSentinels,
                              boolean heavyTailed) {
    /** Missing values (empty, NULL, and suspected sentinels) over all rows. */
    public double missingRate() {
      long rows = present + missing;
      return rows == 0 ? 0 : (double) (missing + sentinelRows) / rows;
    }
  }

  private final String source;
  private final long rows;
  private final String label;
  private final String positive;
  private final Map<String, Long> labelValues;
  private final List<Column> columns;

  private DataProfile(String source, long rows, String label, String positive, Map<String, Long> labelValues,
                      List<Column> columns) {
    this.source = source;
    this.rows = rows;
    this.label = label;
    this.positive = positive;
    this.labelValues = labelValues;
    this.columns = columns;
  }

  /**
   * Reads {@code source} once.
   *
   * @param labelColumn the label column, or null when not known yet (every column is then a feature)
   * @param positiveClass the positive class, or null
   * @throws DataFormatException when the source cannot be read, has no rows, lacks the label column, or
   *     never has the positive class
   */
  public static DataProfile of(DataSource source, String labelColumn, String positiveClass)
      throws DataFormatException {
    try (RecordReader reader = DatasetLoader.open(source)) {
      int labelIndex = labelColumn == null ? -1
          : DatasetLoader.requireColumn(reader, source, labelColumn, "label column");
      List<String> names = reader.columns();
      List<Column> columns = new ArrayList<>();
      for (int c = 0; c < names.size(); c++) {
        columns.add(new Column(names.get(c), reader.declaredType(c)));
      }
      Map<String, Long> labelValues = new LinkedHashMap<>();
      long rows = 0;
      String[] record;
      while ((record = reader.next()) != null) {
        if (record.length != names.size()) {
          throw reader.error(reader.line(), null, "the row has " + record.length + " fields but the header has "
              + names.size() + " columns");
        }
        for (int c = 0; c < record.length; c++) {
          if (c == labelIndex) {
            String value = record[c] == null ? Table.MISSING_TEXT : record[c];
            if (labelValues.size() < MAX_LEVELS || labelValues.containsKey(value)) {
              labelValues.merge(value, 1L, Long::sum);
            }
          } else {
            columns.get(c).add(record[c]);
          }
        }
        rows++;
      }
      if (rows == 0) {
        throw reader.error(0, null, source instanceof DataSource.Query ? "the query returned no rows"
            : "the file has a header but no data rows");
      }
      if (positiveClass != null && !labelValues.containsKey(positiveClass)) {
        throw reader.error(0, labelColumn, "no row has the positive class '" + positiveClass + "'; the label's "
            + "values are " + labelValues.keySet());
      }
      if (labelIndex >= 0) {
        columns.remove(labelIndex);
      }
      return new DataProfile(source.name(), rows, labelColumn, positiveClass, labelValues, columns);
    } catch (IOException e) {
      throw DataFormatException.ofQuery(source.name(), 0, null, "cannot close: " + e.getMessage(), e);
    }
  }

  public String source() {
    return source;
  }

  public long rows() {
    return rows;
  }

  /** The label column, if one was given. */
  public Optional<String> label() {
    return Optional.ofNullable(label);
  }

  public Optional<String> positiveClass() {
    return Optional.ofNullable(positive);
  }

  /** The label's values and their row counts (a missing label as {@value Table#MISSING_TEXT}). */
  public Map<String, Long> labelValues() {
    return Collections.unmodifiableMap(labelValues);
  }

  /** Every column but the label, in source order. */
  public List<ColumnProfile> columns() {
    return columns.stream().map(Column::profile).toList();
  }

  /** Why a column is left out of the proposal, by column (identifiers, free text). */
  public Map<String, String> leftOut() {
    Map<String, String> out = new LinkedHashMap<>();
    for (Column c : columns) {
      c.whyLeftOut().ifPresent(why -> out.put(c.name, why));
    }
    return out;
  }

  /**
   * The proposed schema: every column but the label and the ones {@link #leftOut()}, numeric or
   * categorical with open categories. {@link Proposal#WITH_PREPROCESSING} adds per column: suspected
   * sentinels; for missing values the median (numeric) or the most frequent category (categorical), with a
   * missing indicator when at least 1% of rows miss it; clipping at the 1% and 99% quantiles when a tail
   * reaches far beyond them; "other" for categories no bank has enough rows of to name, or that are new.
   *
   * @throws IllegalStateException when the profile was taken without a label and positive class
   */
  public DataSchema proposedSchema(Proposal proposal) {
    if (label == null || positive == null) {
      throw new IllegalStateException("a schema needs the label column and the positive class");
    }
    List<String> numeric = new ArrayList<>();
    List<CategoricalColumn> categorical = new ArrayList<>();
    Map<String, NumericRules> numericRules = new LinkedHashMap<>();
    Map<String, CategoricalRules> categoricalRules = new LinkedHashMap<>();
    for (Column c : columns) {
      if (c.whyLeftOut().isPresent()) {
        continue;
      }
      ColumnProfile p = c.profile();
      boolean missing = p.missing() + p.sentinelRows() > 0;
      boolean indicator = missing && p.missingRate() >= INDICATOR_RATE;
      if (p.numeric()) {
        numeric.add(c.name);
        if (proposal == Proposal.WITH_PREPROCESSING) {
          numericRules.put(c.name, new NumericRules(missing ? Imputation.MEDIAN : Imputation.REFUSE,
              OptionalDouble.empty(), indicator, p.suspectedSentinels(), c.textMarkers(),
              p.heavyTailed() ? Optional.of(new QuantileClip(0.01, 0.99)) : Optional.empty()));
        }
      } else {
        List<String> declared = c.type.kind() == DeclaredType.Kind.NOMINAL ? c.type.nominalValues() : List.of();
        categorical.add(new CategoricalColumn(c.name, declared));
        if (proposal == Proposal.WITH_PREPROCESSING) {
          categoricalRules.put(c.name, new CategoricalRules(missing ? Imputation.MOST_FREQUENT : Imputation.REFUSE,
              Optional.empty(), indicator, p.suspectedTextSentinels(), true));
        }
      }
    }
    return new DataSchema(numeric, categorical, label, positive, new Preprocessing(numericRules, categoricalRules));
  }

  /** What one column has shown so far. */
  private static final class Column {
    final String name;
    final DeclaredType type;
    long present;
    long missing;
    long nonNumeric;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double sum;
    /** Distinct values and counts, up to MAX_LEVELS of them. */
    final Map<String, Long> levels = new HashMap<>();
    boolean manyLevels;
    /** Texts that are missing-value markers (in a column otherwise numeric) and their counts. */
    final Map<String, Long> markers = new HashMap<>();
    /** The two largest and two smallest distinct numbers and their counts, for sentinel suspicion. */
    final double[] top = {Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY};
    final long[] topCount = new long[2];
    final double[] bottom = {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
    final long[] bottomCount = new long[2];
    final long[] histogram = new long[QuantileGrid.BINS];
    long negatives;
    /** Whether every number so far is an integer, and they rise (or fall) strictly row after row. */
    boolean integers = true;
    int direction;
    double previous = Double.NaN;
    boolean monotone = true;

    Column(String name, DeclaredType type) {
      this.name = name;
      this.type = type;
    }

    void add(String value) {
      if (value == null) {
        missing++;
        return;
      }
      present++;
      if (!manyLevels) {
        Long n = levels.get(value);
        if (n != null) {
          levels.put(value, n + 1);
        } else if (levels.size() < MAX_LEVELS) {
          levels.put(value, 1L);
        } else {
          manyLevels = true;
        }
      }
      double d = DatasetLoader.parse(value);
      if (Double.isNaN(d)) {
        if (MISSING_MARKERS.contains(value.toLowerCase(Locale.ROOT))) {
          markers.merge(value, 1L, Long::sum);
        } else {
          nonNumeric++;
        }
        return;
      }
      min = Math.min(min, d);
      max = Math.max(max, d);
      sum += d;
      if (d < 0) {
        negatives++;
      }
      integers &= d == Math.rint(d);
      if (!Double.isNaN(previous)) {
        int step = Double.compare(d, previous);
        monotone &= step != 0 && (direction == 0 || step == direction);
        direction = step;
      }
      previous = d;
      histogram[QuantileGrid.bin(d)]++;
      rank(d, top, topCount, true);
      rank(d, bottom, bottomCount, false);
    }

    /** Keeps the two most extreme distinct values (largest when {@code high}) and their counts. */
    private static void rank(double d, double[] values, long[] counts, boolean high) {
      for (int i = 0; i < 2; i++) {
        if (values[i] == d) {
          counts[i]++;
          return;
        }
        if (high ? d > values[i] : d < values[i]) {
          if (i == 0) {
            values[1] = values[0];
            counts[1] = counts[0];
          }
          values[i] = d;
          counts[i] = 1;
          return;
        }
      }
    }

    boolean numeric() {
      if (type.kind() == DeclaredType.Kind.NUMERIC) {
        return true;
      }
      if (type.kind() != DeclaredType.Kind.UNDECLARED) {
        return false;
      }
      return nonNumeric == 0 && present > markerRows();
    }

    long markerRows() {
      return markers.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Missing-value markers of a numeric column, as its text sentinels. */
    List<String> textMarkers() {
      return numeric() ? markers.keySet().stream().sorted().toList() : List.of();
    }

    /**
     * Numbers at the extremes that look like codes for "missing": a run of nines (999, 99999999) as the
     * largest value, at least twice the next one, or a negative number (-1, -99) as the smallest of a
     * column otherwise never negative; in at least two rows.
     */
    List<Double> suspectedSentinels() {
      List<Double> out = new ArrayList<>();
      if (!numeric() || present < 10) {
        return out;
      }
      if (topCount[0] >= 2 && top[0] >= 99 && isRunOfNines(top[0]) && top[1] > Double.NEGATIVE_INFINITY
          && top[0] >= 2 * Math.max(top[1], 1)) {
        out.add(top[0]);
      }
      if (bottomCount[0] >= 2 && bottom[0] < 0 && negatives == bottomCount[0]
          && (bottom[0] == -1 || isRunOfNines(-bottom[0]))) {
        out.add(bottom[0]);
      }
      return out;
    }

    /** Rows holding a suspected sentinel: a marker text, a suspected number, a categorical marker level. */
    long sentinelRows() {
      if (!numeric()) {
        return textSentinels().stream().mapToLong(levels::get).sum();
      }
      long n = markerRows();
      for (double s : suspectedSentinels()) {
        n += s == top[0] ? topCount[0] : bottomCount[0];
      }
      return n;
    }

    List<String> textSentinels() {
      return numeric() ? textMarkers()
          : levels.keySet().stream().filter(v -> MISSING_MARKERS.contains(v.toLowerCase(Locale.ROOT))).sorted()
              .toList();
    }

    /** 9, 99, 999, ... */
    private static boolean isRunOfNines(double v) {
      if (v != Math.rint(v) || v < 9 || v > 1e15) {
        return false;
      }
      String digits = Long.toString((long) v);
      return digits.chars().allMatch(ch -> ch == '9');
    }

    /** The histogram without the suspected sentinels, for quantiles of the real values. */
    private long[] realHistogram() {
      long[] h = histogram.clone();
      for (double s : suspectedSentinels()) {
        h[QuantileGrid.bin(s)] -= s == top[0] ? topCount[0] : bottomCount[0];
      }
      return h;
    }

    /** A tail that reaches more than three times the 1%-99% range beyond it. */
    boolean heavyTailed() {
      long[] h = realHistogram();
      if (QuantileGrid.total(h) < 100) {
        return false;
      }
      double p01 = QuantileGrid.quantile(h, 0.01);
      double p99 = QuantileGrid.quantile(h, 0.99);
      double range = p99 - p01;
      List<Double> sentinels = suspectedSentinels();
      double realMax = sentinels.contains(top[0]) ? top[1] : top[0];
      double realMin = sentinels.contains(bottom[0]) ? bottom[1] : bottom[0];
      return range > 0 && (realMax > p99 + 3 * range || realMin < p01 - 3 * range);
    }

    Optional<String> whyLeftOut() {
      if (IDENTIFIER_NAME.matcher(name).matches()) {
        return Optional.of("its name says it is an identifier");
      }
      if (numeric()) {
        return integers && monotone && missing == 0 && present >= 20
            ? Optional.of("a running number (integers rising or falling in every row): an identifier")
            : Optional.empty();
      }
      if (manyLevels) {
        return Optional.of("more than " + MAX_LEVELS + " distinct values: an identifier or free text");
      }
      if (levels.size() > 50 && levels.size() > present / 2) {
        return Optional.of(levels.size() + " distinct values in " + present + " rows: an identifier");
      }
      if (present == sentinelRows()) {
        return Optional.of("no value in any row");
      }
      return Optional.empty();
    }

    ColumnProfile profile() {
      boolean isNumeric = numeric();
      long[] h = realHistogram();
      boolean any = isNumeric && QuantileGrid.total(h) > 0;
      Map<String, Long> sorted = new LinkedHashMap<>();
      levels.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()
          .thenComparing(Map.Entry.comparingByKey())).forEach(e -> sorted.put(e.getKey(), e.getValue()));
      return new ColumnProfile(name, isNumeric, present, missing, sentinelRows(),
          any ? OptionalDouble.of(min) : OptionalDouble.empty(), any ? OptionalDouble.of(max) : OptionalDouble.empty(),
          any ? OptionalDouble.of(sum / (present - markerRows())) : OptionalDouble.empty(),
          any ? OptionalDouble.of(QuantileGrid.quantile(h, 0.01)) : OptionalDouble.empty(),
          any ? OptionalDouble.of(QuantileGrid.quantile(h, 0.5)) : OptionalDouble.empty(),
          any ? OptionalDouble.of(QuantileGrid.quantile(h, 0.99)) : OptionalDouble.empty(),
          Collections.unmodifiableMap(sorted), manyLevels, suspectedSentinels(), textSentinels(),
          isNumeric && heavyTailed());
    }
  }
}
