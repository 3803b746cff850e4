package io.consort.secagg.message;

/** Which of a bank's two shared secrets a revealed share belongs to. */
public enum ShareKind {
  /** b_u, revealed for banks whose masked input arrived. */
  SELF_MASK_SEED(1),
  /** s_u^SK, revealed for banks that dropped before sending their masked input. */
  MASKING_KEY(2);

  private final int code;

  ShareKind(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static ShareKind fromCode(int code) {
    for (ShareKind kind : values()) {
      if (kind.code == code) {
        return kind;
      }
    }
    throw new IllegalArgumentException("unknown share kind code " + code + "; expected 1 or 2");
  }
}
