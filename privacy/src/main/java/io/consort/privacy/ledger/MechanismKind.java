package io.consort.privacy.ledger;

/** The noise mechanisms the ledger knows how to account. */
public enum MechanismKind {
  /** Poisson-subsampled Gaussian (DP-SGD, or Gaussian noise on the sum with sampling rate 1). */
  SAMPLED_GAUSSIAN("sampled-gaussian"),
  /** Sum of the surviving banks' discrete Gaussian shares (Kairouz, Liu, Steinke 2021). */
  DISTRIBUTED_DISCRETE_GAUSSIAN("distributed-discrete-gaussian"),
  /**
   * Record-level DP-SGD whose noise is the sum of the surviving banks' shares under secure aggregation
   * (one step of federated SGD): accounted as a Poisson-subsampled Gaussian with the effective z of the
   * shares that the colluders the job allows for cannot remove ({@link RecordNoiseShare}).
   */
  DISTRIBUTED_SAMPLED_GAUSSIAN("distributed-sampled-gaussian");

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
    throw new IllegalArgumentException("mechanism must be sampled-gaussian, distributed-discrete-gaussian or "
        + "distributed-sampled-gaussian, got "
        + name);
  }
}
