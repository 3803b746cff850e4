package io.consort.secagg;

import io.consort.identity.IdentityVerifier;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.SignatureException;
import java.util.Map;

/**
 * A {@link PeerKeyVerifier} over a fixed map from bank id to identity public key, with the
 * signature algorithm each key's type fixes ({@link IdentityVerifier#signatureValid}). Suitable for
 * tests and simulations; the integration layer backs {@link PeerKeyVerifier} with the consortium
 * PKI.
 */
public final class PublicKeyDirectory implements PeerKeyVerifier {
  private final Map<String, PublicKey> keysByBank;

  public PublicKeyDirectory(Map<String, PublicKey> keysByBank) {
    this.keysByBank = Map.copyOf(keysByBank);
  }

  @Override
  public void verify(String bankId, byte[] message, byte[] signature) throws GeneralSecurityException {
    PublicKey key = keysByBank.get(bankId);
    if (key == null) {
      throw new SignatureException("no identity key known for bank '" + bankId + "'");
    }
    if (!IdentityVerifier.signatureValid(key, message, signature)) {
      throw new SignatureException("signature by bank '" + bankId + "' does not verify with its identity key");
    }
  }
}
