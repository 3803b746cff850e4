package io.consort.secagg;

/**
 * The stages of one secure-aggregation round (Bonawitz et al. 2017, figure 4: rounds 0 to 4).
 * Wire names are the ones used by fault injection and in logs.
 */
public enum Stage {
  /** Round 0: each bank advertises two signed X25519 public keys. */
  ADVERTISE_KEYS("advertise-keys", 1),
  /** Round 1: each bank sends encrypted Shamir shares of b_u and s_u^SK to its peers via the server. */
  SHARE_KEYS("share-keys", 2),
  /** Round 2: each bank sends its masked input y_u. */
  MASKED_INPUT("masked-input", 3),
  /** Round 3 (optional): each bank signs the set of banks whose masked input the server holds. */
  CONSISTENCY_CHECK("consistency-check", 4),
  /** Round 4: each bank reveals shares so the server can remove the masks. */
  UNMASKING("unmasking", 5);

  private final String wireName;
  private final int code;

  Stage(String wireName, int code) {
    this.wireName = wireName;
    this.code = code;
  }

  /** The stable lower-case name, e.g. {@code masked-input}. */
  public String wireName() {
    return wireName;
  }

  /** The one-byte code used by the binary codec. */
  public int code() {
    return code;
  }

  public static Stage fromWireName(String name) {
    for (Stage stage : values()) {
      if (stage.wireName.equals(name)) {
        return stage;
      }
    }
    throw new IllegalArgumentException("unknown stage name '" + name + "'; expected one of "
        + java.util.Arrays.stream(values()).map(Stage::wireName).toList());
  }

  public static Stage fromCode(int code) {
    for (Stage stage : values()) {
      if (stage.code == code) {
        return stage;
      }
    }
    throw new IllegalArgumentException("unknown stage code " + code);
  }

  @Override
  public String toString() {
    return wireName;
  }
}
