package io.consort.model.sums;

import io.consort.model.eval.ScoreHistogram;

/**
 * A bank's evaluation as a secure-sum vector: per bin the positive and negative counts, then the
 * summed log-loss, the number correct and the row count, and, when the evaluation carries it, per
 * original column the summed log-loss increase of permutation importance.
 */
public final class HistogramVector {
  private HistogramVector() {}

  /** A decoded sum: the consortium's histogram and, per column, its summed log-loss increase. */
  public record Total(ScoreHistogram histogram, double[] importance) {}

  public static int length(int bins) {
    return length(bins, 0);
  }

  /** Slots for {@code bins} bins and {@code columns} importance values. */
  public static int length(int bins, int columns) {
    return 2 * bins * Limbs.COUNT_LIMBS + Limbs.FIXED_LIMBS + 2 * Limbs.COUNT_LIMBS + columns * Limbs.FIXED_LIMBS;
  }

  public static int[] encode(ScoreHistogram h) {
    return encode(h, new double[0]);
  }

  public static int[] encode(ScoreHistogram h, double[] importance) {
    Limbs.Writer w = new Limbs.Writer(length(h.bins(), importance.length));
    for (long c : h.positives()) {
      w.count("positive count", c);
    }
    for (long c : h.negatives()) {
      w.count("negative count", c);
    }
    w.fixed("log-loss sum", h.logLossSum()).count("correct", h.correct()).count("rows", h.count());
    for (int c = 0; c < importance.length; c++) {
      w.fixed("log-loss increase of column " + c, importance[c]);
    }
    return w.finish();
  }

  /** The consortium's histogram from the secure sum of {@code banks} vectors. */
  public static ScoreHistogram decode(int bins, int[] sum, int banks) {
    return decode(bins, 0, sum, banks).histogram();
  }

  /** The consortium's histogram and importance sums from the secure sum of {@code banks} vectors. */
  public static Total decode(int bins, int columns, int[] sum, int banks) {
    if (sum.length != length(bins, columns)) {
      throw new IllegalArgumentException("the sum has " + sum.length + " slots but " + bins + " bins and " + columns
          + " columns take " + length(bins, columns));
    }
    Limbs.Reader r = new Limbs.Reader(sum, banks);
    long[] positives = new long[bins];
    long[] negatives = new long[bins];
    for (int b = 0; b < bins; b++) {
      positives[b] = r.count();
    }
    for (int b = 0; b < bins; b++) {
      negatives[b] = r.count();
    }
    double logLoss = Math.max(0, r.fixed());
    long correct = r.count();
    long rows = r.count();
    double[] importance = new double[columns];
    for (int c = 0; c < columns; c++) {
      importance[c] = r.fixed();
    }
    r.requireEnd();
    return new Total(new ScoreHistogram(positives, negatives, logLoss, correct, rows), importance);
  }
}
