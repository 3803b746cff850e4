package io.consort.certs;

import io.consort.identity.IdentitySigner;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.KeyAlgorithm;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;

/** Checks that a private key and a public key form a pair, by signing a random challenge. */
final class KeyPairs {
  private KeyPairs() {
  }

  static boolean matches(PrivateKey privateKey, PublicKey publicKey) throws GeneralSecurityException {
    IdentitySigner signer = new IdentitySigner(privateKey);
    if (signer.keyAlgorithm() != KeyAlgorithm.of(publicKey)) {
      return false;
    }
    byte[] challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    return IdentityVerifier.signatureValid(publicKey, challenge, signer.sign(challenge));
  }
}
