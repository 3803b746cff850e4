package io.consort.secagg.message;

/** One bank's consistency-check signature, forwarded by the coordinator in the unmasking request. */
public record SurvivorSignature(String bankId, byte[] signature) {
  @Override
  public String toString() {
    return "SurvivorSignature[" + bankId + "]";
  }
}
