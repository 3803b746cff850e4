package io.consort.scoring;

import java.util.Objects;

/**
 * One reason for a score: a column of the applicant's row and how much it raised the calibrated
 * logit of default above the reference applicant's (positive: towards default).
 *
 * @param value the applicant's value of the column, as given
 * @param contribution in calibrated logit units
 */
public record ReasonCode(String column, String value, double contribution) {
  public ReasonCode {
    Objects.requireNonNull(column, "column");
    Objects.requireNonNull(value, "value");
  }

  /** {@code column=value}, as a scores file writes the reason. */
  public String label() {
    return column + "=" + value;
  }
}
