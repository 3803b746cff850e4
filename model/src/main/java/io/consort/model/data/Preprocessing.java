package io.consort.model.data;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A schema's per-column preprocessing rules: which columns impute missing values (and how), which
 * values are sentinels, which columns clip at federated quantiles and which map unseen categories to
 * an "other" level. A column without an entry keeps the default: missing values refused, no
 * sentinels, no clipping, unseen categories refused (declared) or unnamed (open). Entries that equal
 * the default are dropped, so equal rules give equal schemas.
 *
 * @param numeric rules by numeric column name
 * @param categorical rules by categorical column name
 */
public record Preprocessing(Map<String, NumericRules> numeric, Map<String, CategoricalRules> categorical) {
  public static final Preprocessing NONE = new Preprocessing(Map.of(), Map.of());

  public Preprocessing {
    numeric = withoutDefaults(numeric, NumericRules::isDefault);
    categorical = withoutDefaults(categorical, CategoricalRules::isDefault);
  }

  private static <T> Map<String, T> withoutDefaults(Map<String, T> rules, java.util.function.Predicate<T> isDefault) {
    Map<String, T> copy = new LinkedHashMap<>();
    Objects.requireNonNull(rules, "rules").forEach((column, rule) -> {
      Objects.requireNonNull(column, "column");
      if (!isDefault.test(Objects.requireNonNull(rule, "rules of column '" + column + "'"))) {
        copy.put(column, rule);
      }
    });
    return Collections.unmodifiableMap(copy);
  }

  public NumericRules numeric(String column) {
    return numeric.getOrDefault(column, NumericRules.DEFAULT);
  }

  public CategoricalRules categorical(String column) {
    return categorical.getOrDefault(column, CategoricalRules.DEFAULT);
  }

  public boolean isEmpty() {
    return numeric.isEmpty() && categorical.isEmpty();
  }
}
