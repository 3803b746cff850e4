package io.consort.model.train;

/** The activation of a model's dense hidden layers (the output is sigmoid, or identity for regression). */
public enum HiddenActivation {
  RELU("relu"),
  TANH("tanh"),
  SIGMOID("sigmoid");

  private final String wireName;

  HiddenActivation(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  /** The activation whose {@link #wireName()} is {@code name}, ignoring case and surrounding space. */
  public static HiddenActivation fromName(String name) {
    return WireNames.find(values(), HiddenActivation::wireName, name, "activation");
  }
}
