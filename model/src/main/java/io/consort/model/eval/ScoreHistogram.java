package io.consort.model.eval;

import java.util.Arrays;
import java.util.List;

/**
 * A bank's evaluation summary: for B equal-width bins over [0, 1], how many positive and negative
 * held-out rows scored in each bin, plus the summed log-loss, the number classified correctly at
 * threshold 0.5 and the row count. All fields are sums over rows, so histograms merge by addition.
 * Score s falls in bin {@code min(floor(s * B), B - 1)}.
 */
public record ScoreHistogram(
    long[] positives, long[] negatives, double logLossSum, long correct, long count) {

  /**
   * 10,000 bins: fine enough that AUC from merged histograms matches the pooled exact AUC within
   * 0.002 on real scores (only pairs that share a bin are approximated, each counted as half).
   */
  public static final int DEFAULT_BINS = 10_000;

  /** Clamp for log-loss so a confident wrong score costs about 16 nats rather than infinity. */
  static final double PROBABILITY_FLOOR = 1e-7;

  public ScoreHistogram {
    if (positives.length == 0 || positives.length != negatives.length) {
      throw new IllegalArgumentException("bin arrays must be non-empty and equally long, got "
          + positives.length + " and " + negatives.length);
    }
    positives = positives.clone();
    negatives = negatives.clone();
    long total = 0;
    for (int b = 0; b < positives.length; b++) {
      if (positives[b] < 0 || negatives[b] < 0) {
        throw new IllegalArgumentException("negative count in bin " + b);
      }
      total += positives[b] + negatives[b];
    }
    if (total != count || correct < 0 || correct > count || !(logLossSum >= 0)
        || !Double.isFinite(logLossSum)) {
      throw new IllegalArgumentException("inconsistent histogram: bins hold " + total
          + " rows, count=" + count + ", correct=" + correct + ", logLossSum=" + logLossSum);
    }
  }

  public static ScoreHistogram of(float[] scores, float[] labels) {
    return of(scores, labels, DEFAULT_BINS);
  }

  /** Bins {@code scores} (probabilities of the positive class) against 0/1 {@code labels}. */
  public static ScoreHistogram of(float[] scores, float[] labels, int bins) {
    if (scores.length != labels.length) {
      throw new IllegalArgumentException(
          scores.length + " scores but " + labels.length + " labels");
    }
    if (bins <= 0) {
      throw new IllegalArgumentException("bins must be positive, got " + bins);
    }
    long[] positives = new long[bins];
    long[] negatives = new long[bins];
    double logLoss = 0;
    long correct = 0;
    for (int i = 0; i < scores.length; i++) {
      float s = scores[i];
      if (!(s >= 0f && s <= 1f)) {
        throw new IllegalArgumentException("score " + i + " is " + s + ", not in [0, 1]");
      }
      boolean positive = labels[i] > 0.5f;
      int bin = Math.min((int) (s * (double) bins), bins - 1);
      double p = Math.min(Math.max(s, PROBABILITY_FLOOR), 1 - PROBABILITY_FLOOR);
      if (positive) {
        positives[bin]++;
        logLoss -= Math.log(p);
      } else {
        negatives[bin]++;
        logLoss -= Math.log1p(-p);
      }
      if (positive == (s >= 0.5f)) {
        correct++;
      }
    }
    return new ScoreHistogram(positives, negatives, logLoss, correct, scores.length);
  }

  public int bins() {
    return positives.length;
  }

  /** Bin-wise sum; all histograms must have the same number of bins. */
  public static ScoreHistogram merge(List<ScoreHistogram> histograms) {
    if (histograms.isEmpty()) {
      throw new IllegalArgumentException("no histograms to merge");
    }
    int bins = histograms.get(0).bins();
    long[] positives = new long[bins];
    long[] negatives = new long[bins];
    double logLoss = 0;
    long correct = 0;
    long count = 0;
    for (ScoreHistogram h : histograms) {
      if (h.bins() != bins) {
        throw new IllegalArgumentException(
            "cannot merge histograms of " + h.bins() + " and " + bins + " bins");
      }
      for (int b = 0; b < bins; b++) {
        positives[b] += h.positives[b];
        negatives[b] += h.negatives[b];
      }
      logLoss += h.logLossSum;
      correct += h.correct;
      count += h.count;
    }
    return new ScoreHistogram(positives, negatives, logLoss, correct, count);
  }

  @Override
  public long[] positives() {
    return positives.clone();
  }

  @Override
  public long[] negatives() {
    return negatives.clone();
  }

  long positivesIn(int bin) {
    return positives[bin];
  }

  long negativesIn(int bin) {
    return negatives[bin];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ScoreHistogram h && Arrays.equals(positives, h.positives)
        && Arrays.equals(negatives, h.negatives) && logLossSum == h.logLossSum
        && correct == h.correct && count == h.count;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(positives) + Arrays.hashCode(negatives) + Long.hashCode(count);
  }

  @Override
  public String toString() {
    return "ScoreHistogram[" + bins() + " bins, " + count + " rows]";
  }
}
