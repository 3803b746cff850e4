package io.consort.model.sums;

import io.consort.model.eval.ScoreHistogram;

/**
 * A bank's evaluation histogram as a secure-sum vector: per bin the positive and negative counts,
 * then the summed log-loss, the number correct and the row count.
 */
public final class HistogramVector {
  private HistogramVector() {}

  public static int length(int bins) {
    return 2 * bins * Limbs.COUNT_LIMBS + Limbs.FIXED_LIMBS + 2 * Limbs.COUNT_LIMBS;
  }

  public static int[] encode(ScoreHistogram h) {
    Limbs.Writer w = new Limbs.Writer(length(h.bins()));
    for (long c : h.positives()) {
      w.count("positive count", c);
    }
    for (long c : h.negatives()) {
      w.count("negative count", c);
    }
    return w.fixed("log-loss sum", h.logLossSum()).count("correct", h.correct()).count("rows", h.count()).finish();
  }

  /** The consortium's histogram from the secure sum of {@code banks} vectors. */
  public static ScoreHistogram decode(int bins, int[] sum, int banks) {
    if (sum.length != length(bins)) {
      throw new IllegalArgumentException("the sum has " + sum.length + " slots but " + bins + " bins take "
          + length(bins));
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
    r.requireEnd();
    return new ScoreHistogram(positives, negatives, logLoss, correct, rows);
  }
}
