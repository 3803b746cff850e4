package io.consort.certs;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;

/** Checks that a private key and a public key form a pair, by signing a random challenge. */
final class KeyPairs {
  private KeyPairs() {
  }

  static boolean matches(PrivateKey privateKey, PublicKey publicKey) throws GeneralSecurityException {
    KeyAlgorithm algorithm = KeyAlgorithm.of(privateKey);
    if (algorithm != KeyAlgorithm.of(publicKey)) {
      return false;
    }
    byte[] challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    Signature signer = Signature.getInstance(algorithm.signatureAlgorithm());
    signer.initSign(privateKey);
    signer.update(challenge);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(algorithm.signatureAlgorithm());
    verifier.initVerify(publicKey);
    verifier.update(challenge);
    return verifier.verify(signature);
  }
}
