package io.consort.model.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a federated job expects of every bank's data: numeric feature columns, categorical feature
 * columns, the label column and which label value is the positive class (for credit risk, the
 * "bad" outcome the model should predict). Column order here fixes the order of encoded features.
 * Columns in a file that the schema does not name are ignored.
 */
public record DataSchema(
    List<String> numericColumns,
    List<CategoricalColumn> categoricalColumns,
    String labelColumn,
    String positiveClass) {

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
    requireName(positiveClass, "positiveClass");
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
