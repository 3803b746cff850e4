package io.consort.secagg;

import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.util.Map;

/**
 * A {@link PeerKeyVerifier} over a fixed map from bank id to identity public key. Suitable for tests
 * and simulations; the integration layer backs {@link PeerKeyVerifier} with the consortium PKI.
 */
public final class PublicKeyDirectory implements PeerKeyVerifier {
  private final Map<String, PublicKey> keysByBank;
  private final String algorithm;

  public PublicKeyDirectory(Map<String, PublicKey> keysByBank, String algorithm) {
    this.keysByBank = Map.copyOf(keysByBank);
    this.algorithm = java.util.Objects.requireNonNull(algorithm, "algorithm");
  }

  @Override
  public void verify(String bankId, byte[] message, byte[] signature) throws GeneralSecurityException {
    PublicKey key = keysByBank.get(bankId);
    if (key == null) {
      throw new SignatureException("no identity key known for bank '" + bankId + "'");
    }
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(key);
    verifier.update(message);
    boolean valid;
    try {
      valid = verifier.verify(signature);
    } catch (SignatureException malformed) {
      valid = false; // a DER-malformed signature is just an invalid one
    }
    if (!valid) {
      throw new SignatureException("signature by bank '" + bankId + "' does not verify with its identity key");
    }
  }
}
