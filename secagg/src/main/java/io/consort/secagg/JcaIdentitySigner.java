package io.consort.secagg;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;

/** An {@link IdentitySigner} over a plain {@link PrivateKey}, e.g. SHA256withECDSA on P-256. */
public final class JcaIdentitySigner implements IdentitySigner {
  private final PrivateKey privateKey;
  private final String algorithm;
  private final SecureRandom random;

  public JcaIdentitySigner(PrivateKey privateKey, String algorithm, SecureRandom random) {
    this.privateKey = java.util.Objects.requireNonNull(privateKey, "privateKey");
    this.algorithm = java.util.Objects.requireNonNull(algorithm, "algorithm");
    this.random = java.util.Objects.requireNonNull(random, "random");
  }

  @Override
  public byte[] sign(byte[] message) throws GeneralSecurityException {
    Signature signature = Signature.getInstance(algorithm);
    signature.initSign(privateKey, random);
    signature.update(message);
    return signature.sign();
  }

  @Override
  public String toString() {
    return "JcaIdentitySigner[" + algorithm + ", private key redacted]";
  }
}
