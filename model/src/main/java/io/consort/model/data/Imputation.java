package io.consort.model.data;

import java.util.Arrays;

/**
 * What a job does with a missing value in a column (an empty field, {@code ?} in ARFF, SQL NULL, or a
 * declared sentinel). The fill value of every policy but {@link #REFUSE} and {@link #CONSTANT} comes
 * from the federated statistics of the banks' training rows, so every bank fills identically and no
 * bank's own statistics leave it in the clear.
 */
public enum Imputation {
  /** The row is refused with its line and column: the bank cleans its data first. The default. */
  REFUSE("refuse"),
  /** Numeric: the consortium's mean of the observed (clipped, if the column clips) values. */
  MEAN("mean"),
  /** Numeric: the consortium's median, read from the securely summed quantile histogram. */
  MEDIAN("median"),
  /** Categorical: the category with the most training rows in the consortium. */
  MOST_FREQUENT("most_frequent"),
  /** A value the job declares: a number for a numeric column, a category for a categorical one. */
  CONSTANT("constant");

  private final String wireName;

  Imputation(String wireName) {
    this.wireName = wireName;
  }

  /** The name in a job file and on the wire. */
  public String wireName() {
    return wireName;
  }

  /** Whether the policy applies to a numeric column. */
  public boolean numeric() {
    return this != MOST_FREQUENT;
  }

  /** Whether the policy applies to a categorical column. */
  public boolean categorical() {
    return this == REFUSE || this == MOST_FREQUENT || this == CONSTANT;
  }

  /** @throws IllegalArgumentException naming the allowed names */
  public static Imputation fromName(String name) {
    for (Imputation i : values()) {
      if (i.wireName.equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException("must be one of " + Arrays.stream(values()).map(Imputation::wireName).toList()
        + ", got '" + name + "'");
  }
}
