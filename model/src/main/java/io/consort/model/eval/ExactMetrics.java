package io.consort.model.eval;

import java.util.Arrays;

/** Metrics from raw scores, for baselines and for testing the histogram approximation. */
public final class ExactMetrics {
  private ExactMetrics() {}

  /**
   * Exact ROC AUC by the rank-sum (Mann-Whitney U) statistic, ties given their average rank; NaN
   * when one class is absent.
   */
  public static double auc(float[] scores, float[] labels) {
    if (scores.length != labels.length) {
      throw new IllegalArgumentException(
          scores.length + " scores but " + labels.length + " labels");
    }
    int n = scores.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Float.compare(scores[a], scores[b]));
    double positiveRankSum = 0;
    long positives = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
        j++;
      }
      double averageRank = (i + j) / 2.0 + 1;
      for (int t = i; t <= j; t++) {
        if (labels[order[t]] > 0.5f) {
          positiveRankSum += averageRank;
          positives++;
        }
      }
      i = j + 1;
    }
    long negatives = n - positives;
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
  }

  /** Mean binary cross-entropy with the same probability clamp as {@link ScoreHistogram}. */
  public static double logLoss(float[] scores, float[] labels) {
    double sum = 0;
    for (int i = 0; i < scores.length; i++) {
      double p = Math.min(Math.max(scores[i], ScoreHistogram.PROBABILITY_FLOOR),
          1 - ScoreHistogram.PROBABILITY_FLOOR);
      sum -= labels[i] > 0.5f ? Math.log(p) : Math.log1p(-p);
    }
    return sum / scores.length;
  }
}
