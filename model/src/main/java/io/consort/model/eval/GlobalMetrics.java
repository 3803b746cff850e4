package io.consort.model.eval;

/**
 * Consortium-wide metrics from a merged {@link ScoreHistogram}.
 *
 * @param auc area under the ROC curve; pairs scored in the same bin count half; NaN when one class
 *     is absent
 * @param accuracy fraction classified correctly at threshold 0.5
 * @param logLoss mean binary cross-entropy (natural log)
 */
public record GlobalMetrics(double auc, double accuracy, double logLoss, long count) {

  public static GlobalMetrics from(ScoreHistogram merged) {
    if (merged.count() == 0) {
      throw new IllegalArgumentException("the histogram holds no rows");
    }
    // Walking bins upward: each positive beats every negative in lower bins and ties (half) with
    // negatives in its own bin.
    double wins = 0;
    long negativesBelow = 0;
    long positives = 0;
    for (int b = 0; b < merged.bins(); b++) {
      long pos = merged.positivesIn(b);
      long neg = merged.negativesIn(b);
      wins += pos * (negativesBelow + 0.5 * neg);
      negativesBelow += neg;
      positives += pos;
    }
    double auc = positives == 0 || negativesBelow == 0 ? Double.NaN
        : wins / ((double) positives * negativesBelow);
    return new GlobalMetrics(auc, (double) merged.correct() / merged.count(),
        merged.logLossSum() / merged.count(), merged.count());
  }
}
