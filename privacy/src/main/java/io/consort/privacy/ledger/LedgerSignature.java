package io.consort.privacy.ledger;

import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * A signature by one identity: who signed ({@code signerId}, the certificate's identity name, its
 * subject CN), with which algorithm, under which certificate (SHA-256 fingerprint of its DER encoding,
 * so a signer can rotate certificates during a ledger's life), and the signature bytes.
 */
public record LedgerSignature(String signerId, String algorithm, String certificateFingerprint, byte[] signature) {

  public LedgerSignature {
    Objects.requireNonNull(signerId, "signerId");
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(certificateFingerprint, "certificateFingerprint");
    signature = Objects.requireNonNull(signature, "signature").clone();
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  public String signatureBase64() {
    return Base64.getEncoder().encodeToString(signature);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LedgerSignature other && signerId.equals(other.signerId) && algorithm.equals(other.algorithm)
        && certificateFingerprint.equals(other.certificateFingerprint) && Arrays.equals(signature, other.signature);
  }

  @Override
  public int hashCode() {
    return Objects.hash(signerId, algorithm, certificateFingerprint, Arrays.hashCode(signature));
  }

  @Override
  public String toString() {
    return "LedgerSignature[signer=" + signerId + ", algorithm=" + algorithm + ", certificate="
        + certificateFingerprint + "]";
  }
}
