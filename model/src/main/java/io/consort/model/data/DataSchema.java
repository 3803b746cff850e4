package io.consort.model.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * What a federated job expects of every bank's data: numeric feature columns, categorical feature
 * columns, the label column and which label value is the positive class (for credit risk, the
 * "bad" outcome the model should predict). Column order here fixes the order of encoded features.
 * Columns in a file that the schema does not name are ignored. {@link Preprocessing} says, per column,
 * what a missing, sentinel, unseen or extreme value becomes; without rules every such value is refused.
 *
 * <p>The label is a class (a row is positive when its label equals {@code positiveClass}) or, with a
 * {@code labelBound}, a real number (a regression target): every label must then be a finite number,
 * and each is clipped to {@code [-labelBound, labelBound]} when it is loaded, so one row's influence on
 * training and on the evaluation's sums is bounded (docs/PRIVACY.md); {@code positiveClass} is empty.
 *
 * @param labelBound present exactly when the label is numeric: the declared range its values are clipped to,
 *     positive and finite
 */
public record DataSchema(
    List<String> numericColumns,
    List<CategoricalColumn> categoricalColumns,
    String labelColumn,
    String positiveClass,
    Preprocessing preprocessing,
    OptionalDouble labelBound) {

  /** A schema without preprocessing rules: every missing value and every unknown declared category refused. */
  public DataSchema(List<String> numericColumns, List<CategoricalColumn> categoricalColumns, String labelColumn,
                    String positiveClass) {
    this(numericColumns, categoricalColumns, labelColumn, positiveClass, Preprocessing.NONE);
  }

  /** A schema whose label is a class. */
  public DataSchema(List<String> numericColumns, List<CategoricalColumn> categoricalColumns, String labelColumn,
                    String positiveClass, Preprocessing preprocessing) {
    this(numericColumns, categoricalColumns, labelColumn, positiveClass, preprocessing, OptionalDouble.empty());
  }

  /** A schema whose label is a real number, clipped to {@code [-bound, bound]}. */
  public static DataSchema numericLabel(List<String> numericColumns, List<CategoricalColumn> categoricalColumns,
                                        String labelColumn, double bound, Preprocessing preprocessing) {
    return new DataSchema(numericColumns, categoricalColumns, labelColumn, "", preprocessing, OptionalDouble.of(bound));
  }

  /**
   * A categorical feature column. When {@code allowedCategories} is non-empty it is the complete
   * list of values a bank may have; any other value is rejected at load time and this list (not the
   * banks' observed values) defines the one-hot encoding.
   */
  public record CategoricalColumn(String name, List<String> allowedCategories) {
    public CategoricalColumn {
      requireName(name, "categorical column name");
      allowedCategories = List.copyOf(Objects.requireNonNull(allowedCategories, "allowedCategories"));
      if (new HashSet<>(allowedCategories).size() != allowedCategories.size()) {
        throw new IllegalArgumentException(
            "categorical column '" + name + "' declares a category twice: " + allowedCategories);
      }
    }

    /** A column whose categories are whatever the banks observe. */
    public static CategoricalColumn open(String name) {
      return new CategoricalColumn(name, List.of());
    }

    public boolean isDeclared() {
      return !allowedCategories.isEmpty();
    }
  }

  public DataSchema {
    numericColumns = List.copyOf(Objects.requireNonNull(numericColumns, "numericColumns"));
    categoricalColumns =
        List.copyOf(Objects.requireNonNull(categoricalColumns, "categoricalColumns"));
    requireName(labelColumn, "labelColumn");
    Objects.requireNonNull(labelBound, "labelBound");
    if (labelBound.isPresent()) {
      double b = labelBound.getAsDouble();
      if (!(b > 0) || !Double.isFinite(b)) {
        throw new IllegalArgumentException("the label bound (label_bound) must be positive and finite, got " + b);
      }
      if (positiveClass == null || !positiveClass.isEmpty()) {
        throw new IllegalArgumentException("a numeric label (with label_bound) has no positive class, got '"
            + positiveClass + "'");
      }
    } else {
      requireName(positiveClass, "positiveClass");
    }
    Set<String> seen = new HashSet<>();
    seen.add(labelColumn);
    List<String> all = new ArrayList<>(numericColumns);
    categoricalColumns.forEach(c -> all.add(c.name()));
    for (String name : all) {
      requireName(name, "feature column name");
      if (!seen.add(name)) {
        throw new IllegalArgumentException(
            "column '" + name + "' appears twice in the schema (or is also the label column)");
      }
    }
    if (all.isEmpty()) {
      throw new IllegalArgumentException("a schema needs at least one feature column");
    }
    Objects.requireNonNull(preprocessing, "preprocessing");
    for (String column : preprocessing.numeric().keySet()) {
      if (!numericColumns.contains(column)) {
        throw new IllegalArgumentException("preprocessing names column '" + column + "' as numeric but it is not a "
            + "numeric column of the schema");
      }
    }
    for (Map.Entry<String, CategoricalRules> e : preprocessing.categorical().entrySet()) {
      CategoricalColumn column = categoricalColumns.stream().filter(c -> c.name().equals(e.getKey())).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("preprocessing names column '" + e.getKey()
              + "' as categorical but it is not a categorical column of the schema"));
      CategoricalRules rules = e.getValue();
      if (column.isDeclared() && rules.constant().isPresent()
          && !column.allowedCategories().contains(rules.constant().get())) {
        throw new IllegalArgumentException("preprocessing of column '" + column.name() + "': the fill category '"
            + rules.constant().get() + "' is not one of its declared categories " + column.allowedCategories());
      }
      for (String sentinel : rules.sentinels()) {
        if (column.allowedCategories().contains(sentinel)) {
          throw new IllegalArgumentException("preprocessing of column '" + column.name() + "': sentinel '" + sentinel
              + "' is also one of its declared categories");
        }
      }
    }
  }

  /** The rules of the {@code column}-th numeric column (schema order). */
  public NumericRules numericRules(int column) {
    return preprocessing.numeric(numericColumns.get(column));
  }

  /** The rules of the {@code column}-th categorical column (schema order). */
  public CategoricalRules categoricalRules(int column) {
    return preprocessing.categorical(categoricalColumns.get(column).name());
  }

  /** The same columns with other preprocessing rules. */
  public DataSchema withPreprocessing(Preprocessing rules) {
    return new DataSchema(numericColumns, categoricalColumns, labelColumn, positiveClass, rules, labelBound);
  }

  /** Whether the label is a real number (a regression target) rather than a class. */
  public boolean isNumericLabel() {
    return labelBound.isPresent();
  }

  /**
   * A label value as rows carry it: for a class label, 1 for the positive class and 0 otherwise; for a
   * numeric label, the number clipped to the bound.
   */
  public double clipLabel(double value) {
    double b = labelBound.orElseThrow(() -> new IllegalStateException("the label '" + labelColumn + "' is a class"));
    return Math.max(-b, Math.min(b, value));
  }

  /** Names of all feature columns: numeric first, then categorical, in schema order. */
  public List<String> featureColumns() {
    List<String> all = new ArrayList<>(numericColumns);
    categoricalColumns.forEach(c -> all.add(c.name()));
    return all;
  }

  private static void requireName(String name, String what) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(what + " must be non-blank, got '" + name + "'");
    }
  }
}
