package io.consort.scoring;

import java.util.List;
import java.util.Objects;

/**
 * One application's score.
 *
 * @param probability the calibrated probability of the positive class (default)
 * @param modelProbability the model's own probability, before calibration
 * @param decision the published decision rule's verdict at the scorer's threshold
 * @param reasons the columns that raised the score most above the reference applicant's, largest
 *     first; only columns that raised it (none when every column lowered it); empty when the scorer
 *     was asked for no reason codes
 * @param contributions every feature column's contribution to the calibrated logit relative to the
 *     reference applicant, in the scorer's column order; empty when no reason codes were asked for
 */
public record Score(double probability, double modelProbability, Decision decision, List<ReasonCode> reasons,
                    double[] contributions) {
  public Score {
    Objects.requireNonNull(decision, "decision");
    reasons = List.copyOf(reasons);
    contributions = contributions.clone();
  }

  @Override
  public double[] contributions() {
    return contributions.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Score s && Double.compare(probability, s.probability) == 0
        && Double.compare(modelProbability, s.modelProbability) == 0 && decision == s.decision
        && reasons.equals(s.reasons) && java.util.Arrays.equals(contributions, s.contributions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(probability, modelProbability, decision, reasons, java.util.Arrays.hashCode(contributions));
  }

  @Override
  public String toString() {
    return "Score[probability=" + probability + ", decision=" + decision + ", reasons=" + reasons + "]";
  }
}
