package io.consort.secagg.message;

/**
 * Advertise-keys (Bonawitz et al. 2017, round 0): the bank's two X25519 public keys, c (share
 * encryption) and s (masking), signed with its identity key over job, round, bank id and both keys.
 */
public record AdvertiseKeys(MessageHeader header, byte[] encryptionPublicKey, byte[] maskingPublicKey,
              byte[] signature) implements SecAggMessage {
  /** The same content as a roster entry. */
  public SignedPublicKeys toSignedKeys() {
    return new SignedPublicKeys(header.senderId(), encryptionPublicKey, maskingPublicKey, signature);
  }

  @Override
  public String toString() {
    return "AdvertiseKeys[" + header + "]";
  }
}
