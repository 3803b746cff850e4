package io.consort.scoring;

import io.consort.model.data.DataSchema;
import io.consort.model.features.FeatureEncoding;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes one raw row (its values as text, in the schema's feature-column order) exactly as the
 * banks encoded their rows for training and evaluation ({@link FeatureEncoding}): numeric columns
 * standardised in double and rounded to float, categorical columns one-hot. The loader's rules
 * apply to every value, and every violation is reported rather than the first only: a missing value
 * is refused (never imputed), a numeric value must be a finite number, a declared column's category
 * must be one the schema allows. An open column's category that no bank named encodes as no level of
 * the column, as it did in training. Immutable and thread-safe.
 */
public final class RowEncoder {
  private final FeatureEncoding encoding;
  private final List<String> columns;
  private final double[] means;
  private final double[] stds;
  private final List<Map<String, Integer>> levelOf = new ArrayList<>();
  private final int[] firstLevel;
  private final boolean[] declared;

  public RowEncoder(FeatureEncoding encoding) {
    this.encoding = encoding;
    DataSchema schema = encoding.schema();
    this.columns = schema.featureColumns();
    this.means = encoding.means();
    this.stds = encoding.stds();
    int numeric = means.length;
    firstLevel = new int[encoding.categories().size()];
    declared = new boolean[firstLevel.length];
    int offset = numeric;
    for (int c = 0; c < firstLevel.length; c++) {
      Map<String, Integer> index = new HashMap<>();
      List<String> levels = encoding.categories().get(c);
      for (int k = 0; k < levels.size(); k++) {
        index.put(levels.get(k), k);
      }
      levelOf.add(index);
      firstLevel[c] = offset;
      declared[c] = schema.categoricalColumns().get(c).isDeclared();
      offset += levels.size();
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
    Arrays.fill(x, offset, offset + features(), 0f);
    List<RowProblem> problems = null;
    int numeric = means.length;
    for (int j = 0; j < numeric; j++) {
      String value = values[j];
      String problem = null;
      if (value == null) {
        problem = missing();
      } else {
        double v = parseFinite(value);
        if (Double.isNaN(v)) {
          problem = "value '" + value + "' is not a finite number but the column is numeric";
        } else {
          x[offset + j] = (float) ((v - means[j]) / stds[j]);
        }
      }
      if (problem != null) {
        problems = add(problems, new RowProblem(columns.get(j), problem));
      }
    }
    for (int c = 0; c < firstLevel.length; c++) {
      String value = values[numeric + c];
      String problem = null;
      if (value == null) {
        problem = missing();
      } else {
        Integer level = levelOf.get(c).get(value);
        if (level != null) {
          x[offset + firstLevel[c] + level] = 1f;
        } else if (declared[c]) {
          problem = "unknown category '" + value + "'; allowed: " + encoding.categories().get(c);
        }
        // an open column's category that no bank named sets no level, as in training
      }
      if (problem != null) {
        problems = add(problems, new RowProblem(columns.get(numeric + c), problem));
      }
    }
    if (problems != null) {
      Arrays.fill(x, offset, offset + features(), 0f);
      return problems;
    }
    return List.of();
  }

  private static String missing() {
    return "missing value (Consort does not impute: fill or drop this row before scoring)";
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
