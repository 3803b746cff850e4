package io.consort.scoring;

import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataSchema;
import io.consort.model.data.Imputation;
import io.consort.model.data.NumericRules;
import io.consort.model.features.FeatureEncoding;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes one raw row (its values as text, in the schema's feature-column order) exactly as the
 * banks encoded their rows for training and evaluation ({@link FeatureEncoding#encodeRow}: the job's
 * fills, clips, "other" levels and missing indicators, numeric columns standardised in double and
 * rounded to float, categorical columns one-hot). The loader's rules apply to every value, and every
 * violation is reported rather than the first only: a missing value (empty, or one of the column's
 * sentinels) is filled as in training, or refused where the job refuses it; a numeric value must be a
 * finite number; a declared column's category must be one the schema allows unless the column maps
 * unseen values to "other". An open column's category that no bank named encodes as no level of the
 * column (or as "other"), as it did in training. Immutable and thread-safe.
 */
public final class RowEncoder {
  private final FeatureEncoding encoding;
  private final List<String> columns;
  private final List<Map<String, Integer>> levelOf = new ArrayList<>();
  private final boolean[] declared;

  public RowEncoder(FeatureEncoding encoding) {
    this.encoding = encoding;
    DataSchema schema = encoding.schema();
    this.columns = schema.featureColumns();
    declared = new boolean[encoding.categories().size()];
    for (int c = 0; c < declared.length; c++) {
      Map<String, Integer> index = new HashMap<>();
      List<String> levels = encoding.categories().get(c);
      for (int k = 0; k < levels.size(); k++) {
        index.put(levels.get(k), k);
      }
      levelOf.add(index);
      declared[c] = schema.categoricalColumns().get(c).isDeclared();
    }
  }

  /** The feature columns a row must have, in the order {@link #encode} takes their values. */
  public List<String> columns() {
    return columns;
  }

  public int features() {
    return encoding.featureCount();
  }

  /**
   * Encodes {@code values} (one per {@link #columns()}, null for a missing value) into {@code x} at
   * {@code offset}; the problems, empty when the row was encoded. A refused row leaves its slice zero.
   */
  public List<RowProblem> encode(String[] values, float[] x, int offset) {
    if (values.length != columns.size()) {
      throw new IllegalArgumentException("expected " + columns.size() + " values, got " + values.length);
    }
    DataSchema schema = encoding.schema();
    List<RowProblem> problems = null;
    int numeric = schema.numericColumns().size();
    double[] numbers = new double[numeric];
    for (int j = 0; j < numeric; j++) {
      NumericRules rules = schema.numericRules(j);
      String value = values[j];
      String problem = null;
      double v = Double.NaN;
      if (value == null) {
        problem = missing(rules.imputation(), "missing value");
      } else if (rules.textSentinels().contains(value)) {
        problem = missing(rules.imputation(), "value '" + value + "' is a sentinel for a missing value");
      } else {
        v = parseFinite(value);
        if (Double.isNaN(v)) {
          problem = "value '" + value + "' is not a finite number but the column is numeric";
        } else if (rules.isSentinel(v)) {
          v = Double.NaN;
          problem = missing(rules.imputation(), "value '" + value + "' is a sentinel for a missing value");
        }
      }
      numbers[j] = v;
      if (problem != null) {
        problems = add(problems, new RowProblem(columns.get(j), problem));
      }
    }
    String[] categories = new String[declared.length];
    for (int c = 0; c < declared.length; c++) {
      CategoricalRules rules = schema.categoricalRules(c);
      String value = values[numeric + c];
      String problem = null;
      if (value == null) {
        problem = missing(rules.imputation(), "missing value");
      } else if (rules.sentinels().contains(value)) {
        problem = missing(rules.imputation(), "value '" + value + "' is a sentinel for a missing value");
      } else {
        categories[c] = value;
        if (declared[c] && !levelOf.get(c).containsKey(value) && !rules.unseenToOther()) {
          problem = "unknown category '" + value + "'; allowed: " + encoding.categories().get(c);
        }
        // an open column's category that no bank named sets no level (or goes to "other"), as in training
      }
      if (problem != null) {
        problems = add(problems, new RowProblem(columns.get(numeric + c), problem));
      }
    }
    if (problems != null) {
      Arrays.fill(x, offset, offset + features(), 0f);
      return problems;
    }
    // the training encoding itself: fills, clips, "other" levels and missing indicators included
    encoding.encodeRow(numbers, categories, x, offset);
    return List.of();
  }

  /** The problem of a missing value under {@code policy}: none when the job fills it. */
  private static String missing(Imputation policy, String what) {
    return policy == Imputation.REFUSE ? what + ", and the model refuses missing values in this column (its job's "
        + "missing policy is refuse: fill or drop this row before scoring)" : null;
  }

  private static List<RowProblem> add(List<RowProblem> problems, RowProblem problem) {
    List<RowProblem> list = problems == null ? new ArrayList<>() : problems;
    list.add(problem);
    return list;
  }

  /** The value as a finite double, or NaN; the loader's parse ({@link Double#parseDouble}). */
  private static double parseFinite(String value) {
    try {
      double d = Double.parseDouble(value);
      return Double.isFinite(d) ? d : Double.NaN;
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }
}
