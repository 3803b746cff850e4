package io.consort.model.features;

import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSchema.CategoricalColumn;
import io.consort.model.data.Table;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The one feature encoding of a federated job: numeric columns standardised with the consortium's
 * pooled mean and population standard deviation, categorical columns one-hot over a fixed category
 * list. Features are ordered numeric columns first, then each categorical column's categories, in
 * schema order. The same encoding gives bit-identical vectors at every bank.
 */
public final class FeatureEncoding {
  private final DataSchema schema;
  private final double[] means;
  private final double[] stds;
  private final List<List<String>> categories;
  private final List<Map<String, Integer>> indexOf = new ArrayList<>();
  private final int featureCount;

  /**
   * Rebuilds an encoding from its parts (e.g. received from the coordinator).
   *
   * @param means per numeric column, schema order
   * @param stds per numeric column, strictly positive
   * @param categories per categorical column, schema order, distinct values
   */
  public FeatureEncoding(DataSchema schema, double[] means, double[] stds,
      List<List<String>> categories) {
    this.schema = Objects.requireNonNull(schema, "schema");
    this.means = means.clone();
    this.stds = stds.clone();
    int numeric = schema.numericColumns().size();
    if (means.length != numeric || stds.length != numeric) {
      throw new IllegalArgumentException("expected " + numeric + " means and stds, got "
          + means.length + " and " + stds.length);
    }
    for (int j = 0; j < numeric; j++) {
      if (!Double.isFinite(means[j]) || !(stds[j] > 0) || !Double.isFinite(stds[j])) {
        throw new IllegalArgumentException("column '" + schema.numericColumns().get(j)
            + "': mean " + means[j] + " must be finite and std " + stds[j] + " finite and > 0");
      }
    }
    if (categories.size() != schema.categoricalColumns().size()) {
      throw new IllegalArgumentException("expected " + schema.categoricalColumns().size()
          + " category lists, got " + categories.size());
    }
    List<List<String>> copies = new ArrayList<>();
    int count = numeric;
    for (int j = 0; j < categories.size(); j++) {
      List<String> list = List.copyOf(categories.get(j));
      Map<String, Integer> index = new HashMap<>();
      for (String category : list) {
        if (index.put(category, index.size()) != null) {
          throw new IllegalArgumentException("column '" + schema.categoricalColumns().get(j).name()
              + "' lists category '" + category + "' twice");
        }
      }
      if (list.isEmpty()) {
        throw new IllegalArgumentException(
            "column '" + schema.categoricalColumns().get(j).name() + "' has no categories");
      }
      copies.add(list);
      indexOf.add(index);
      count += list.size();
    }
    this.categories = List.copyOf(copies);
    this.featureCount = count;
  }

  /**
   * Merges the banks' statistics: pooled means, population standard deviations (a zero standard
   * deviation becomes 1 so a constant column encodes to 0 instead of dividing by zero) and per
   * categorical column the schema's declared list, or else the sorted union of observed categories.
   */
  public static FeatureEncoding merge(List<LocalFeatureStats> banks) {
    if (banks.isEmpty()) {
      throw new IllegalArgumentException("no bank statistics to merge");
    }
    DataSchema schema = banks.get(0).schema();
    int numeric = schema.numericColumns().size();
    long[] count = new long[numeric];
    double[] sum = new double[numeric];
    double[] sumOfSquares = new double[numeric];
    List<TreeSet<String>> union = new ArrayList<>();
    schema.categoricalColumns().forEach(c -> union.add(new TreeSet<>()));
    for (int b = 0; b < banks.size(); b++) {
      LocalFeatureStats bank = banks.get(b);
      if (!bank.schema().equals(schema)) {
        throw new IllegalArgumentException("bank statistics " + b
            + " were computed with a different schema than bank statistics 0");
      }
      for (int j = 0; j < numeric; j++) {
        count[j] += bank.numeric().get(j).count();
        sum[j] += bank.numeric().get(j).sum();
        sumOfSquares[j] += bank.numeric().get(j).sumOfSquares();
      }
      for (int j = 0; j < union.size(); j++) {
        union.get(j).addAll(bank.categoryCounts(j).keySet());
      }
    }
    double[] means = new double[numeric];
    double[] stds = new double[numeric];
    for (int j = 0; j < numeric; j++) {
      if (count[j] == 0) {
        throw new IllegalArgumentException(
            "no bank has a value in column '" + schema.numericColumns().get(j) + "'");
      }
      means[j] = sum[j] / count[j];
      // E[x^2] - E[x]^2 can come out slightly negative from rounding; clamp before the square root.
      double variance = Math.max(0, sumOfSquares[j] / count[j] - means[j] * means[j]);
      double std = Math.sqrt(variance);
      stds[j] = std > 1e-12 * Math.max(1, Math.abs(means[j])) ? std : 1.0;
    }
    List<List<String>> categories = new ArrayList<>();
    for (int j = 0; j < union.size(); j++) {
      CategoricalColumn column = schema.categoricalColumns().get(j);
      categories.add(column.isDeclared() ? column.allowedCategories() : List.copyOf(union.get(j)));
    }
    return new FeatureEncoding(schema, means, stds, categories);
  }

  /** Encodes every row of {@code table}, which must have been loaded with this job's schema. */
  public EncodedData encode(Table table) {
    if (!table.schema().equals(schema)) {
      throw new IllegalArgumentException(
          table.source() + " was loaded with a different schema than this feature encoding's");
    }
    int rows = table.rows();
    float[] x = new float[Math.multiplyExact(rows, featureCount)];
    float[] y = new float[rows];
    int numeric = means.length;
    // Map each column's observed dictionary to one-hot offsets once, not once per row.
    int[][] offsetOfCode = new int[categories.size()][];
    int base = numeric;
    for (int j = 0; j < categories.size(); j++) {
      List<String> observed = table.observedCategories(j);
      offsetOfCode[j] = new int[observed.size()];
      for (int code = 0; code < observed.size(); code++) {
        Integer index = indexOf.get(j).get(observed.get(code));
        if (index == null && schema.categoricalColumns().get(j).isDeclared()) {
          throw new IllegalArgumentException("column '" + schema.categoricalColumns().get(j).name()
              + "': category '" + observed.get(code) + "' in " + table.source()
              + " is not in the job's feature encoding " + categories.get(j));
        }
        // an open column's category too rare for any bank to name it sets no bit of that column
        offsetOfCode[j][code] = index == null ? -1 : base + index;
      }
      base += categories.get(j).size();
    }
    for (int r = 0; r < rows; r++) {
      int row = r * featureCount;
      for (int j = 0; j < numeric; j++) {
        x[row + j] = (float) ((table.numeric(j, r) - means[j]) / stds[j]);
      }
      for (int j = 0; j < offsetOfCode.length; j++) {
        int offset = offsetOfCode[j][table.categoryCode(j, r)];
        if (offset >= 0) {
          x[row + offset] = 1f;
        }
      }
      y[r] = table.isPositive(r) ? 1f : 0f;
    }
    return new EncodedData(rows, featureCount, x, y);
  }

  public DataSchema schema() {
    return schema;
  }

  public int featureCount() {
    return featureCount;
  }

  public double[] means() {
    return means.clone();
  }

  public double[] stds() {
    return stds.clone();
  }

  public List<List<String>> categories() {
    return categories;
  }

  /** Names of the encoded features: numeric column names, then {@code column=category}. */
  public List<String> featureNames() {
    List<String> names = new ArrayList<>(schema.numericColumns());
    for (int j = 0; j < categories.size(); j++) {
      String column = schema.categoricalColumns().get(j).name();
      categories.get(j).forEach(c -> names.add(column + "=" + c));
    }
    return names;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FeatureEncoding other && schema.equals(other.schema)
        && Arrays.equals(means, other.means) && Arrays.equals(stds, other.stds)
        && categories.equals(other.categories);
  }

  @Override
  public int hashCode() {
    return Objects.hash(schema, Arrays.hashCode(means), Arrays.hashCode(stds), categories);
  }

  @Override
  public String toString() {
    return "FeatureEncoding[" + featureCount + " features from " + schema.featureColumns() + "]";
  }
}
