package io.consort.model.data;

import java.util.Locale;
import java.util.Objects;

/** How {@link DataSplitter} divides one table among simulated banks. */
public sealed interface SplitStrategy {

  /** Rows shuffled and dealt into equal shares: every bank sees the same distribution. */
  record Iid() implements SplitStrategy {}

  /**
   * Different positive rates per bank: of N banks, bank b (0-based) receives a share (b + 1) / S of
   * the positive rows and (N - b) / S of the negative rows, S = N(N + 1)/2. Bank 0 is the most
   * conservative lender, bank N-1 the riskiest; sizes stay comparable. With German credit (30%
   * positive) and 3 banks the positive rates are about 12%, 30% and 56%.
   */
  record LabelSkew() implements SplitStrategy {}

  /**
   * Rows grouped by their value in {@code column} (e.g. a region or product); whole groups go to
   * banks, largest group first to the bank with the fewest rows so far, which balances sizes.
   */
  record ByColumn(String column) implements SplitStrategy {
    public ByColumn {
      Objects.requireNonNull(column, "column");
    }
  }

  /** Parses {@code iid}, {@code label-skew} or {@code by-column:COLUMN}. */
  static SplitStrategy parse(String text) {
    String trimmed = text.trim();
    String lower = trimmed.toLowerCase(Locale.ROOT);
    if (lower.equals("iid")) {
      return new Iid();
    }
    if (lower.equals("label-skew")) {
      return new LabelSkew();
    }
    if (lower.startsWith("by-column:") && trimmed.length() > "by-column:".length()) {
      return new ByColumn(trimmed.substring("by-column:".length()));
    }
    throw new IllegalArgumentException("unknown split '" + text
        + "'; expected iid, label-skew or by-column:COLUMN");
  }
}
