package io.consort.secagg.message;

import java.util.Arrays;

/** One bank's advertised, signed public keys, as forwarded by the coordinator. */
public record SignedPublicKeys(String bankId, byte[] encryptionPublicKey, byte[] maskingPublicKey,
                byte[] signature) {
  /** Same bank and byte-identical keys and signature. */
  public boolean sameContentAs(SignedPublicKeys other) {
    return bankId.equals(other.bankId) && Arrays.equals(encryptionPublicKey, other.encryptionPublicKey)
        && Arrays.equals(maskingPublicKey, other.maskingPublicKey) && Arrays.equals(signature, other.signature);
  }

  @Override
  public String toString() {
    return "SignedPublicKeys[" + bankId + "]";
  }
}
