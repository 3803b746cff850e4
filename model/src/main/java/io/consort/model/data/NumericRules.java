package io.consort.model.data;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * How a job treats one numeric column's missing, sentinel and extreme values, in this order: a value
 * equal to a sentinel is missing; an observed value is clipped to the consortium's quantiles (when the
 * column clips); a missing value is filled by the imputation (or refused); the missing indicator, when
 * asked for, is a 0/1 feature of its own that says the value was missing.
 *
 * @param imputation what fills a missing value; {@link Imputation#REFUSE} refuses the row
 * @param constant the fill of {@link Imputation#CONSTANT}, and only of it
 * @param missingIndicator whether the encoding gets a "was missing" feature for this column
 * @param sentinels values that mean "missing" (such as {@code 99999999} or {@code -1}), compared as numbers
 * @param textSentinels texts that mean "missing" in this numeric column (such as {@code NA}), compared exactly
 * @param clip the quantiles observed values are clipped to, if any
 */
public record NumericRules(Imputation imputation, OptionalDouble constant, boolean missingIndicator,
                           List<Double> sentinels, List<String> textSentinels, Optional<QuantileClip> clip) {
  /** Missing values refused, no sentinels, no clipping: what a column without rules gets. */
  public static final NumericRules DEFAULT = new NumericRules(Imputation.REFUSE, OptionalDouble.empty(), false,
      List.of(), List.of(), Optional.empty());

  /** At most this many sentinels per column: a plan must not make a bank allocate without limit. */
  public static final int MAX_SENTINELS = 64;

  public NumericRules {
    Objects.requireNonNull(imputation, "imputation");
    Objects.requireNonNull(constant, "constant");
    sentinels = List.copyOf(Objects.requireNonNull(sentinels, "sentinels"));
    textSentinels = List.copyOf(Objects.requireNonNull(textSentinels, "textSentinels"));
    Objects.requireNonNull(clip, "clip");
    if (!imputation.numeric()) {
      throw new IllegalArgumentException("missing policy " + imputation.wireName() + " applies to categorical "
          + "columns only; a numeric column takes refuse, mean, median or constant");
    }
    if ((imputation == Imputation.CONSTANT) != constant.isPresent()) {
      throw new IllegalArgumentException(imputation == Imputation.CONSTANT
          ? "missing policy constant needs a fill value" : "a fill value is only for missing policy constant");
    }
    if (constant.isPresent() && !Double.isFinite(constant.getAsDouble())) {
      throw new IllegalArgumentException("the fill value must be a finite number, got " + constant.getAsDouble());
    }
    if (missingIndicator && imputation == Imputation.REFUSE) {
      throw new IllegalArgumentException("a missing indicator needs a missing policy other than refuse (a refused "
          + "value is never missing in an encoded row)");
    }
    if (sentinels.size() + textSentinels.size() > MAX_SENTINELS) {
      throw new IllegalArgumentException("at most " + MAX_SENTINELS + " sentinels, got "
          + (sentinels.size() + textSentinels.size()));
    }
    for (String text : textSentinels) {
      if (text == null || text.isEmpty() || !Double.isNaN(DatasetLoader.parse(text))) {
        throw new IllegalArgumentException("a numeric column's text sentinel must be a non-empty text that is not "
            + "a number (list numbers as sentinels), got '" + text + "'");
      }
    }
    if (textSentinels.stream().distinct().count() != textSentinels.size()) {
      throw new IllegalArgumentException("a text sentinel is listed twice: " + textSentinels);
    }
    for (Double s : sentinels) {
      if (s == null || !Double.isFinite(s)) {
        throw new IllegalArgumentException("a sentinel must be a finite number, got " + s);
      }
    }
    if (sentinels.stream().distinct().count() != sentinels.size()) {
      throw new IllegalArgumentException("a sentinel is listed twice: " + sentinels);
    }
  }

  /**
   * The sentinels as a job file writes them: the numbers first (an integral one as a {@code Long}, so
   * 99999999 and not 9.9999999E7), then the texts.
   */
  public List<Object> writtenSentinels() {
    List<Object> written = new java.util.ArrayList<>();
    sentinels.forEach(v -> written.add(v == Math.rint(v) && Math.abs(v) < 1e15 ? (Object) v.longValue() : v));
    written.addAll(textSentinels);
    return written;
  }

  /** Whether {@code value} (finite) is one of the sentinels. */
  public boolean isSentinel(double value) {
    for (double s : sentinels) {
      if (s == value) {
        return true;
      }
    }
    return false;
  }

  /** Whether the federated statistics need this column's quantile histogram (for the median or the clip). */
  public boolean needsQuantiles() {
    return imputation == Imputation.MEDIAN || clip.isPresent();
  }

  public boolean isDefault() {
    return equals(DEFAULT);
  }
}
