package io.consort.secagg;

import io.consort.identity.IdentitySigner;
import io.consort.secagg.crypto.X25519KeyPair;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

/**
 * A bank's two fresh X25519 key pairs, c (share encryption) and s (masking), and its identity signature over a
 * context naming their public keys: what a round's keys made ahead ({@link SecAggClient#prepareKeys}) and a period's
 * keys ({@link PeriodKeys#make}) both are. The caller takes ownership of the private keys; nothing is left unwiped
 * if making them or the signature fails.
 */
record SignedKeyPairs(X25519KeyPair encryption, X25519KeyPair masking, byte[] signature) {

  /** The signed context over the two public keys (c, then s). */
  @FunctionalInterface
  interface Context {
    byte[] over(byte[] encryptionPublicKey, byte[] maskingPublicKey);
  }

  static SignedKeyPairs make(IdentitySigner signer, SecureRandom random, Context context)
      throws GeneralSecurityException {
    X25519KeyPair c = X25519KeyPair.generate(random);
    X25519KeyPair s = null;
    try {
      s = X25519KeyPair.generate(random);
      return new SignedKeyPairs(c, s, signer.sign(context.over(c.publicKeyBytes(), s.publicKeyBytes())));
    } catch (GeneralSecurityException | RuntimeException e) {
      c.destroy();
      if (s != null) {
        s.destroy();
      }
      throw e;
    }
  }

  @Override
  public String toString() {
    return "SignedKeyPairs[redacted]";
  }
}
