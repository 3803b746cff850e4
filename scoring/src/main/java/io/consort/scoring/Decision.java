package io.consort.scoring;

/**
 * What the published decision rule says for an application. The model scores the positive class,
 * the bad outcome (a default): at or above the threshold the application is declined.
 */
public enum Decision {
  APPROVE,
  DECLINE;

  /** Lower-case, as written in a scores file. */
  public String label() {
    return this == APPROVE ? "approve" : "decline";
  }
}
