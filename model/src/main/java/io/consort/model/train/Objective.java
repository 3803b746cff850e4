package io.consort.model.train;

/** What the single output predicts and the loss it is trained on. */
public enum Objective {
  /** Probability of the positive class: sigmoid output, binary cross-entropy. */
  BINARY("binary"),
  /** A real value: identity output, mean squared error (reported as RMSE). */
  REGRESSION("regression");

  private final String wireName;

  Objective(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static Objective fromName(String name) {
    return WireNames.find(values(), Objective::wireName, name, "objective");
  }
}
