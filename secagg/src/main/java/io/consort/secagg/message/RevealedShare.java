package io.consort.secagg.message;

/** A Shamir share of one of {@code ownerId}'s secrets, revealed to the coordinator in unmasking. */
public record RevealedShare(String ownerId, ShareKind kind, byte[] value) {
  @Override
  public String toString() {
    return "RevealedShare[" + ownerId + ", " + kind + ", value redacted]";
  }
}
