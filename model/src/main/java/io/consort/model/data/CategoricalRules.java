package io.consort.model.data;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a job treats one categorical column's missing, sentinel and unseen values: a value equal to a
 * sentinel is missing; a missing value is filled by the imputation (or refused); a value outside the
 * column's categories goes to the column's "other" level when {@code unseenToOther}. Without it a
 * declared column refuses such a value and an open column encodes a category too rare for any bank
 * to name as no level of the column.
 *
 * @param imputation {@link Imputation#REFUSE}, {@link Imputation#MOST_FREQUENT} or {@link Imputation#CONSTANT}
 * @param constant the fill of {@link Imputation#CONSTANT} (a category, which becomes one of the column's
 *     levels), and only of it
 * @param missingIndicator whether the encoding gets a "was missing" feature for this column
 * @param sentinels values that mean "missing" (such as {@code "unknown"} or {@code "n/a"}), compared exactly
 * @param unseenToOther whether values outside the column's categories map to an "other" level
 */
public record CategoricalRules(Imputation imputation, Optional<String> constant, boolean missingIndicator,
                               List<String> sentinels, boolean unseenToOther) {
  public static final CategoricalRules DEFAULT = new CategoricalRules(Imputation.REFUSE, Optional.empty(), false,
      List.of(), false);

  public CategoricalRules {
    Objects.requireNonNull(imputation, "imputation");
    Objects.requireNonNull(constant, "constant");
    sentinels = List.copyOf(Objects.requireNonNull(sentinels, "sentinels"));
    if (!imputation.categorical()) {
      throw new IllegalArgumentException("missing policy " + imputation.wireName() + " applies to numeric columns "
          + "only; a categorical column takes refuse, most_frequent or constant");
    }
    if ((imputation == Imputation.CONSTANT) != constant.isPresent()) {
      throw new IllegalArgumentException(imputation == Imputation.CONSTANT
          ? "missing policy constant needs a fill value" : "a fill value is only for missing policy constant");
    }
    if (constant.isPresent() && constant.get().isEmpty()) {
      throw new IllegalArgumentException("the fill category must not be empty");
    }
    if (missingIndicator && imputation == Imputation.REFUSE) {
      throw new IllegalArgumentException("a missing indicator needs a missing policy other than refuse (a refused "
          + "value is never missing in an encoded row)");
    }
    if (sentinels.size() > NumericRules.MAX_SENTINELS) {
      throw new IllegalArgumentException("at most " + NumericRules.MAX_SENTINELS + " sentinels, got "
          + sentinels.size());
    }
    if (sentinels.stream().anyMatch(Objects::isNull) || sentinels.stream().distinct().count() != sentinels.size()) {
      throw new IllegalArgumentException("sentinels must be distinct texts, got " + sentinels);
    }
    if (constant.isPresent() && sentinels.contains(constant.get())) {
      throw new IllegalArgumentException("the fill category '" + constant.get() + "' is also a sentinel");
    }
  }

  /** Whether the federated statistics need this column's counts per category (stage two). */
  public boolean needsCounts() {
    return imputation == Imputation.MOST_FREQUENT || unseenToOther;
  }

  public boolean isDefault() {
    return equals(DEFAULT);
  }
}
