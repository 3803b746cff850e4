package io.consort.scoring.calibration;

import io.consort.model.eval.ScoreHistogram;
import io.consort.scoring.v1.CalibrationMetrics;
import io.consort.scoring.v1.CostReport;
import io.consort.scoring.v1.Evaluation;
import io.consort.scoring.v1.ReliabilityBin;
import io.consort.scoring.v1.ThresholdCost;
import io.consort.spec.CostMatrix;
import java.util.Optional;

/**
 * Calibration and cost figures of a model from the consortium's merged evaluation histogram alone
 * (per score bin, the held-out rows of each class): Brier score, expected calibration error, a
 * reliability curve and log-loss, on the model's own probability and on the calibrated one, and the
 * expected cost of decisions at a threshold. Nothing here reads a row; every figure is a function of
 * counts the banks already released for the model.
 *
 * <p>Every row of score bin {@code b} of {@code B} is taken at the bin's midpoint. A row's score is
 * at most {@code 1/(2B)} from it, so on the model's own probability the Brier score is within
 * {@code 1/B} of the exact one; log-loss and ECE are approximations of the same order away from the
 * end bins (an end bin's rows may lie anywhere down to 0 or up to 1, where log-loss is steep). The
 * exact log-loss of the model's own probability is the banks' summed one, reported beside it.
 */
public final class HistogramEvaluation {
  /** Reliability curve and ECE over ten equal-width bins of the (calibrated) probability. */
  public static final int RELIABILITY_BINS = 10;
  /** The same clamp as the banks' log-loss: a confident wrong score costs about 16 nats. */
  static final double PROBABILITY_FLOOR = 1e-7;

  private HistogramEvaluation() {}

  /** The model logit of bin {@code b}'s midpoint. */
  static double midpointLogit(int b, int bins) {
    double mid = (b + 0.5) / bins;
    return Math.log(mid) - Math.log1p(-mid);
  }

  /** The whole evaluation block of a published model. */
  public static Evaluation evaluate(int round, ScoreHistogram merged, double auc, double accuracy, double logLoss,
                                    Calibration calibration, Optional<CostMatrix> costs, double decisionThreshold) {
    long positives = 0;
    for (long p : merged.positives()) {
      positives += p;
    }
    double rate = (double) positives / merged.count();
    double baseRate = rate <= 0 || rate >= 1 ? 0 : -(rate * Math.log(rate) + (1 - rate) * Math.log1p(-rate));
    Evaluation.Builder e = Evaluation.newBuilder().setRound(round).setExamples(merged.count()).setPositives(positives)
        .setHistogramBins(merged.bins()).setAuc(auc).setAccuracy(accuracy).setLogLoss(logLoss)
        .setBaseRateLogLoss(baseRate)
        .setBefore(metrics(merged, Calibration.identity("the model's own probability")))
        .setAfter(metrics(merged, calibration));
    costs.ifPresent(m -> e.setCost(costs(merged, calibration, m, decisionThreshold)));
    return e.build();
  }

  /** Log-loss, Brier score, ECE and reliability curve of the calibrated probability. */
  public static CalibrationMetrics metrics(ScoreHistogram merged, Calibration calibration) {
    long[] pos = merged.positives();
    long[] neg = merged.negatives();
    int bins = merged.bins();
    long[] count = new long[RELIABILITY_BINS];
    long[] observed = new long[RELIABILITY_BINS];
    double[] predicted = new double[RELIABILITY_BINS];
    double logLoss = 0;
    double brier = 0;
    for (int b = 0; b < bins; b++) {
      long n = pos[b] + neg[b];
      if (n == 0) {
        continue;
      }
      double p = calibration.probability(midpointLogit(b, bins));
      double clamped = Math.min(Math.max(p, PROBABILITY_FLOOR), 1 - PROBABILITY_FLOOR);
      logLoss -= pos[b] * Math.log(clamped) + neg[b] * Math.log1p(-clamped);
      brier += pos[b] * (1 - p) * (1 - p) + neg[b] * p * p;
      int r = Math.min((int) (p * RELIABILITY_BINS), RELIABILITY_BINS - 1);
      count[r] += n;
      observed[r] += pos[b];
      predicted[r] += n * p;
    }
    long total = merged.count();
    CalibrationMetrics.Builder m = CalibrationMetrics.newBuilder().setLogLoss(logLoss / total).setBrier(brier / total);
    double ece = 0;
    for (int r = 0; r < RELIABILITY_BINS; r++) {
      ReliabilityBin.Builder bin = ReliabilityBin.newBuilder().setLower((double) r / RELIABILITY_BINS)
          .setUpper((double) (r + 1) / RELIABILITY_BINS).setExamples(count[r]);
      if (count[r] > 0) {
        double meanPredicted = predicted[r] / count[r];
        double rate = (double) observed[r] / count[r];
        bin.setMeanPredicted(meanPredicted).setObservedRate(rate);
        ece += (double) count[r] / total * Math.abs(rate - meanPredicted);
      }
      m.addReliability(bin);
    }
    return m.setEce(ece).build();
  }

  /**
   * Expected cost per applicant at the decision threshold, at 0.5 and at the cost-minimising
   * threshold, and of approving or refusing everyone. A threshold between two bin edges takes the
   * share of its bin above it, as if the bin's rows were spread evenly; the minimising threshold is
   * searched over bin edges, on the very rows it is judged on, so its cost is optimistic.
   */
  public static CostReport costs(ScoreHistogram merged, Calibration calibration, CostMatrix costs,
                                 double decisionThreshold) {
    long[] pos = merged.positives();
    long[] neg = merged.negatives();
    int bins = merged.bins();
    long total = merged.count();
    // cumulative counts from the top: rows in bins >= k
    long[] posFrom = new long[bins + 1];
    long[] negFrom = new long[bins + 1];
    for (int b = bins - 1; b >= 0; b--) {
      posFrom[b] = posFrom[b + 1] + pos[b];
      negFrom[b] = negFrom[b + 1] + neg[b];
    }
    long allPositives = posFrom[0];
    int best = 0;
    double bestCost = Double.POSITIVE_INFINITY;
    for (int k = 0; k <= bins; k++) {
      double cost = (costs.falseNegative() * (allPositives - posFrom[k]) + costs.falsePositive() * negFrom[k]) / total;
      if (cost < bestCost) {
        bestCost = cost;
        best = k;
      }
    }
    double bestThreshold = best == 0 ? 0 : best == bins ? 1
        : calibration.probability(edgeLogit(best, bins));
    ThresholdCost minimising = ThresholdCost.newBuilder().setThreshold(bestThreshold).setExpectedCost(bestCost)
        .setRefusedFraction((double) (posFrom[best] + negFrom[best]) / total).build();
    return CostReport.newBuilder().setFalseNegativeCost(costs.falseNegative())
        .setFalsePositiveCost(costs.falsePositive())
        .setAtDecisionThreshold(at(merged, calibration, costs, decisionThreshold)).setAtHalf(at(merged, calibration,
            costs, 0.5)).setMinimising(minimising)
        .setApproveEveryone(costs.falseNegative() * allPositives / total)
        .setRefuseEveryone(costs.falsePositive() * negFrom[0] / total).build();
  }

  /** The model logit of bin edge {@code k / bins}, 0 < k < bins. */
  private static double edgeLogit(int k, int bins) {
    double edge = (double) k / bins;
    return Math.log(edge) - Math.log1p(-edge);
  }

  /** Expected cost of refusing at a calibrated probability of {@code threshold} and above. */
  static ThresholdCost at(ScoreHistogram merged, Calibration calibration, CostMatrix costs, double threshold) {
    long[] pos = merged.positives();
    long[] neg = merged.negatives();
    int bins = merged.bins();
    // the model's own probability where the calibrated one reaches the threshold
    double raw = threshold <= 0 ? 0 : threshold >= 1 ? 1 : Calibration.sigmoid(calibration.modelLogitAt(threshold));
    double position = raw * bins;
    double refusedPositives = 0;
    double refusedNegatives = 0;
    for (int b = 0; b < bins; b++) {
      // share of bin b at or above the threshold, rows spread evenly in the bin
      double share = Math.min(1, Math.max(0, b + 1 - position));
      refusedPositives += share * pos[b];
      refusedNegatives += share * neg[b];
    }
    long positives = 0;
    for (long p : pos) {
      positives += p;
    }
    double cost = (costs.falseNegative() * (positives - refusedPositives) + costs.falsePositive() * refusedNegatives)
        / merged.count();
    return ThresholdCost.newBuilder().setThreshold(threshold).setExpectedCost(cost)
        .setRefusedFraction((refusedPositives + refusedNegatives) / merged.count()).build();
  }
}
