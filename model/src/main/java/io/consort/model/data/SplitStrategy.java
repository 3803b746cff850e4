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

  /**
   * Label skew by a Dirichlet draw (Hsu, Qi, Brown 2019, "Measuring the Effects of Non-Identical Data
   * Distribution"): for each class, the shares of its rows across banks are drawn from
   * Dirichlet(alpha, ..., alpha); small alpha gives each bank a few dominant classes, large alpha
   * approaches iid. Draws that leave a bank with fewer than {@link #MIN_ROWS_PER_CLASS} rows of a class
   * are redrawn (deterministically from the seed), so every bank can train and be evaluated.
   *
   * @param alpha the concentration, finite and > 0
   */
  record Dirichlet(double alpha) implements SplitStrategy {
    /** The fewest rows of each class a bank gets: enough for a stratified held-out split with both classes. */
    public static final int MIN_ROWS_PER_CLASS = 5;

    public Dirichlet {
      if (!(alpha > 0) || Double.isInfinite(alpha)) {
        throw new IllegalArgumentException("the Dirichlet concentration must be finite and > 0, got " + alpha);
      }
    }
  }

  /** Parses {@code iid}, {@code label-skew}, {@code dirichlet:ALPHA} or {@code by-column:COLUMN}. */
  static SplitStrategy parse(String text) {
    String trimmed = text.trim();
    String lower = trimmed.toLowerCase(Locale.ROOT);
    if (lower.equals("iid")) {
      return new Iid();
    }
    if (lower.equals("label-skew")) {
      return new LabelSkew();
    }
    if (lower.startsWith("dirichlet:")) {
      String alpha = trimmed.substring("dirichlet:".length());
      try {
        return new Dirichlet(Double.parseDouble(alpha));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("split '" + text + "': the Dirichlet concentration must be a number, got '"
            + alpha + "'");
      }
    }
    if (lower.startsWith("by-column:") && trimmed.length() > "by-column:".length()) {
      return new ByColumn(trimmed.substring("by-column:".length()));
    }
    throw new IllegalArgumentException("unknown split '" + text
        + "'; expected iid, label-skew, dirichlet:ALPHA or by-column:COLUMN");
  }
}
