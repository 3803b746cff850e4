package io.consort.spec;

import io.consort.model.sums.HistogramVector;
import io.consort.model.sums.RegressionVector;
import io.consort.model.train.Objective;

/**
 * Which evaluation a round's secure sum carries. Under secure aggregation a round's one secure sum
 * holds each bank's update and, from round 2 on, its evaluation vector of the model the round
 * started from (the model the previous round released): the evaluation rides in the update's sum
 * instead of opening a second sum of its own. The last round's model is evaluated in a sum of its own
 * after its release ({@link SecureSumPurpose#EVALUATION}, with permutation importance). The
 * coordinator and every bank compute the layout with these functions from the job they pinned and
 * the round number, never from a task.
 *
 * <p>The one place that says how long a bank's evaluation vector is; the bank builds the vector and
 * the coordinator decodes the sum: the score histograms of {@link HistogramVector}, or a regression
 * job's error sums ({@link RegressionVector}).
 */
public final class RoundEvaluation {
  private RoundEvaluation() {}

  /** The length of one bank's evaluation vector in {@code spec}'s job, with {@code importanceColumns} importance values. */
  public static int vectorLength(JobSpec spec, int importanceColumns) {
    if (spec.model().objective() == Objective.REGRESSION) {
      return RegressionVector.length();
    }
    return HistogramVector.length(spec.evaluation().histogramBins(), importanceColumns);
  }

  /** Whether round {@code round}'s secure sum carries the evaluation of the model the round started from. */
  public static boolean carried(JobSpec spec, long round) {
    return spec.secureAggregation().enabled() && round >= 2;
  }

  /** The slots the carried evaluation takes after the update in round {@code round}'s sum: 0 when none. */
  public static int carriedSlots(JobSpec spec, long round) {
    return carried(spec, round) ? vectorLength(spec, 0) : 0;
  }
}
