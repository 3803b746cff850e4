package io.consort.model.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The validated rows of one data set, stored column by column: numeric columns as doubles,
 * categorical columns as small integer codes into a per-column dictionary of the values seen (so a
 * million rows of "radio/tv" cost a million ints, not a million strings), and the label as a number:
 * 1 (positive class) or 0 for a class label, the clipped value for a numeric one
 * ({@link DataSchema#isNumericLabel()}). A missing value (allowed by the schema's {@link Preprocessing}) is NaN in a
 * numeric column and code {@value #MISSING} (category null) in a categorical one. Immutable once built.
 */
public final class Table {
  /** The code of a missing categorical value. */
  public static final int MISSING = -1;

  private final DataSchema schema;
  private final String source;
  private final int rows;
  private final double[][] numeric;
  private final int[][] codes;
  private final List<List<String>> dictionaries;
  private final double[] labels;

  private Table(
      DataSchema schema,
      String source,
      int rows,
      double[][] numeric,
      int[][] codes,
      List<List<String>> dictionaries,
      double[] labels) {
    this.schema = schema;
    this.source = source;
    this.rows = rows;
    this.numeric = numeric;
    this.codes = codes;
    this.dictionaries = dictionaries;
    this.labels = labels;
  }

  public DataSchema schema() {
    return schema;
  }

  /** Where the rows came from (a file name, or a description of a split), for error messages. */
  public String source() {
    return source;
  }

  public int rows() {
    return rows;
  }

  /** Rows of the positive class; 0 for a numeric label. */
  public int positives() {
    if (schema.isNumericLabel()) {
      return 0;
    }
    int count = 0;
    for (int r = 0; r < rows; r++) {
      if (labels[r] == 1) {
        count++;
      }
    }
    return count;
  }

  /** Value of the {@code column}-th numeric column (schema order) in {@code row}; NaN when missing. */
  public double numeric(int column, int row) {
    checkRow(row);
    return numeric[column][row];
  }

  /** Value of the {@code column}-th categorical column (schema order) in {@code row}; null when missing. */
  public String category(int column, int row) {
    checkRow(row);
    int code = codes[column][row];
    return code == MISSING ? null : dictionaries.get(column).get(code);
  }

  /** The distinct values seen in a categorical column; {@link #categoryCode} indexes this list. */
  public List<String> observedCategories(int column) {
    return dictionaries.get(column);
  }

  /** The value's index in {@link #observedCategories}, or {@value #MISSING}. */
  public int categoryCode(int column, int row) {
    checkRow(row);
    return codes[column][row];
  }

  /**
   * Whether the row is of the positive class.
   *
   * @throws IllegalStateException for a numeric label, which has no classes
   */
  public boolean isPositive(int row) {
    checkRow(row);
    if (schema.isNumericLabel()) {
      throw new IllegalStateException("the label '" + schema.labelColumn() + "' of " + source
          + " is numeric: it has no positive class");
    }
    return labels[row] == 1;
  }

  /** The row's label: 1 or 0 for a class label, the clipped number for a numeric one. */
  public double label(int row) {
    checkRow(row);
    return labels[row];
  }

  /** What {@link #value} says for a missing value. */
  public static final String MISSING_TEXT = "(missing)";

  /** The raw value of any schema column (feature or label) as text, e.g. to group rows by it. */
  public String value(String column, int row) {
    int n = schema.numericColumns().indexOf(column);
    if (n >= 0) {
      return Double.isNaN(numeric(n, row)) ? MISSING_TEXT : Double.toString(numeric(n, row));
    }
    for (int c = 0; c < schema.categoricalColumns().size(); c++) {
      if (schema.categoricalColumns().get(c).name().equals(column)) {
        String category = category(c, row);
        return category == null ? MISSING_TEXT : category;
      }
    }
    if (schema.labelColumn().equals(column)) {
      if (schema.isNumericLabel()) {
        return Double.toString(label(row));
      }
      return isPositive(row) ? schema.positiveClass() : "not " + schema.positiveClass();
    }
    throw new IllegalArgumentException(
        "column '" + column + "' is not in the schema of " + source + "; schema columns: "
            + schema.featureColumns() + " and label '" + schema.labelColumn() + "'");
  }

  /** A new table of the given rows (in the given order; repeats allowed). */
  public Table select(int[] rowIndexes, String newSource) {
    double[][] n = new double[numeric.length][rowIndexes.length];
    int[][] c = new int[codes.length][rowIndexes.length];
    double[] p = new double[rowIndexes.length];
    for (int i = 0; i < rowIndexes.length; i++) {
      int r = rowIndexes[i];
      checkRow(r);
      for (int j = 0; j < numeric.length; j++) {
        n[j][i] = numeric[j][r];
      }
      for (int j = 0; j < codes.length; j++) {
        c[j][i] = codes[j][r];
      }
      p[i] = labels[r];
    }
    return new Table(schema, newSource, rowIndexes.length, n, c, dictionaries, p);
  }

  /** Concatenates tables with the same schema (e.g. pooling banks for a centralised baseline). */
  public static Table concat(List<Table> tables, String newSource) {
    if (tables.isEmpty()) {
      throw new IllegalArgumentException("nothing to concatenate");
    }
    Builder builder = new Builder(tables.get(0).schema, newSource);
    for (Table t : tables) {
      if (!t.schema.equals(builder.schema)) {
        throw new IllegalArgumentException(
            "cannot concatenate " + t.source + ": its schema differs from " + tables.get(0).source);
      }
      String[] cats = new String[t.codes.length];
      double[] nums = new double[t.numeric.length];
      for (int r = 0; r < t.rows; r++) {
        for (int j = 0; j < nums.length; j++) {
          nums[j] = t.numeric[j][r];
        }
        for (int j = 0; j < cats.length; j++) {
          cats[j] = t.category(j, r);
        }
        builder.add(nums, cats, t.labels[r]);
      }
    }
    return builder.build();
  }

  private void checkRow(int row) {
    Objects.checkIndex(row, rows);
  }

  /** Appends validated rows one at a time, growing its arrays geometrically. */
  public static final class Builder {
    private final DataSchema schema;
    private final String source;
    private final List<Map<String, Integer>> codeOf = new ArrayList<>();
    private final List<List<String>> dictionaries = new ArrayList<>();
    private double[][] numeric;
    private int[][] codes;
    private double[] labels = new double[16];
    private int rows;

    public Builder(DataSchema schema, String source) {
      this.schema = Objects.requireNonNull(schema, "schema");
      this.source = Objects.requireNonNull(source, "source");
      numeric = new double[schema.numericColumns().size()][16];
      codes = new int[schema.categoricalColumns().size()][16];
      for (int c = 0; c < codes.length; c++) {
        codeOf.add(new HashMap<>());
        dictionaries.add(new ArrayList<>());
      }
    }

    /**
     * Adds one row. Values must already be validated: numeric values finite or NaN (missing),
     * categories allowed or null (missing). Arrays are indexed in schema order.
     */
    public Builder add(double[] numericValues, String[] categories, boolean isPositive) {
      if (schema.isNumericLabel()) {
        throw new IllegalStateException("the label '" + schema.labelColumn() + "' is numeric: add its value");
      }
      return add(numericValues, categories, isPositive ? 1 : 0);
    }

    /**
     * Adds one row with its label as {@link Table#label} gives it: 1 or 0 for a class label, the value
     * already clipped to the bound for a numeric one.
     */
    public Builder add(double[] numericValues, String[] categories, double label) {
      if (rows == labels.length) {
        int capacity = Math.max(16, rows + (rows >> 1));
        labels = Arrays.copyOf(labels, capacity);
        for (int j = 0; j < numeric.length; j++) {
          numeric[j] = Arrays.copyOf(numeric[j], capacity);
        }
        for (int j = 0; j < codes.length; j++) {
          codes[j] = Arrays.copyOf(codes[j], capacity);
        }
      }
      for (int j = 0; j < numeric.length; j++) {
        numeric[j][rows] = numericValues[j];
      }
      for (int j = 0; j < codes.length; j++) {
        List<String> dictionary = dictionaries.get(j);
        codes[j][rows] = categories[j] == null ? MISSING
            : codeOf.get(j).computeIfAbsent(categories[j], v -> {
              dictionary.add(v);
              return dictionary.size() - 1;
            });
      }
      labels[rows] = label;
      rows++;
      return this;
    }

    public int rows() {
      return rows;
    }

    public Table build() {
      double[][] n = new double[numeric.length][];
      for (int j = 0; j < n.length; j++) {
        n[j] = Arrays.copyOf(numeric[j], rows);
      }
      int[][] c = new int[codes.length][];
      for (int j = 0; j < c.length; j++) {
        c[j] = Arrays.copyOf(codes[j], rows);
      }
      List<List<String>> dicts = new ArrayList<>();
      dictionaries.forEach(d -> dicts.add(List.copyOf(d)));
      return new Table(schema, source, rows, n, c, List.copyOf(dicts), Arrays.copyOf(labels, rows));
    }
  }
}
