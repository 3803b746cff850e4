package io.consort.scoring.explain;

/**
 * A row's contributions cannot be made to add up to its logit difference within the method's tolerance and budget:
 * no explanation is returned for it. Scoring refuses that row (for a person to decide) and goes on with the batch;
 * any other failure of the explaining code is a fault and is not caught as this.
 */
public final class UnfaithfulExplanationException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public UnfaithfulExplanationException(String message) {
    super(message);
  }

  public UnfaithfulExplanationException(String message, Throwable cause) {
    super(message, cause);
  }
}
