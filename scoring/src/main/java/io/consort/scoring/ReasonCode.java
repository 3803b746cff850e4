package io.consort.scoring;

import java.util.Objects;

/**
 * One reason for a score: a column of the applicant's row (for a sequence model, a channel: its
 * columns over the window) and how much it raised the calibrated logit of default above the
 * reference applicant's (positive: towards default).
 *
 * @param column the column; for a sequence model the channel, named by its first and last columns
 *     ({@code r0..r9})
 * @param value the applicant's value of the column, as given, or {@value #MISSING} when the row has
 *     none (the job filled it); for a sequence model, the value of {@code step}
 * @param contribution in calibrated logit units; for a sequence model the channel's contributions
 *     summed over the window
 * @param step for a sequence model, the channel's column (time step) that contributed most; empty
 *     for any other model
 */
public record ReasonCode(String column, String value, double contribution, String step) {
  /** The value a reason shows for a missing value. */
  public static final String MISSING = "(missing)";

  public ReasonCode {
    Objects.requireNonNull(column, "column");
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(step, "step");
  }

  /** A reason of a dense model: one column. */
  public ReasonCode(String column, String value, double contribution) {
    this(column, value, contribution, "");
  }

  /**
   * {@code column=value}, as a scores file writes the reason; for a sequence model {@code channel
   * (most at step=value)}, e.g. {@code r0..r9 (most at r7=0.031)}.
   */
  public String label() {
    return step.isEmpty() ? column + "=" + value : column + " (most at " + step + "=" + value + ")";
  }
}
