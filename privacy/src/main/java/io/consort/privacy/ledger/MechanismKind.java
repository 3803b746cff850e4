package io.consort.privacy.ledger;

/** The noise mechanisms the ledger knows how to account. */
public enum MechanismKind {
  /** Poisson-subsampled Gaussian (DP-SGD, or Gaussian noise on the sum with sampling rate 1). */
  SAMPLED_GAUSSIAN("sampled-gaussian"),
  /** Sum of the surviving banks' discrete Gaussian shares (Kairouz, Liu, Steinke 2021). */
  DISTRIBUTED_DISCRETE_GAUSSIAN("distributed-discrete-gaussian");

  private final String wireName;

  MechanismKind(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static MechanismKind fromWireName(String name) {
    for (MechanismKind kind : values()) {
      if (kind.wireName.equals(name)) {
        return kind;
      }
    }
    throw new IllegalArgumentException("mechanism must be sampled-gaussian or distributed-discrete-gaussian, got "
        + name);
  }
}
