package io.consort.certs;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Objects;

/**
 * Signs bytes with a member's consortium private key, so that peers can check them against the
 * member's certificate ({@link IdentityVerifier}). Backs secure-aggregation key advertisements and
 * privacy-ledger signatures.
 *
 * <p>The algorithm follows the key: SHA256withECDSA for P-256, SHA256withRSA for RSA, Ed25519 for
 * Ed25519. Callers should put a context label (protocol, job, round, stage) inside the signed
 * bytes so a signature made for one purpose cannot be replayed for another. The key never
 * appears in {@link #toString()} or logs.
 */
public final class IdentitySigner {
  private final PrivateKey key;
  private final KeyAlgorithm algorithm;

  public IdentitySigner(PrivateKey key) throws GeneralSecurityException {
    this.key = Objects.requireNonNull(key, "key");
    this.algorithm = KeyAlgorithm.of(key);
  }

  /** Reads the key from a PKCS#8 (or SEC1) PEM file, e.g. an identity directory's {@code key.pem}. */
  public static IdentitySigner fromKeyFile(Path keyFile) throws java.io.IOException, GeneralSecurityException {
    return new IdentitySigner(PemFiles.readPrivateKey(keyFile));
  }

  /** Signs {@code message}; a fresh signature each call (ECDSA is randomised). */
  public byte[] sign(byte[] message) throws GeneralSecurityException {
    Objects.requireNonNull(message, "message");
    Signature signature = Signature.getInstance(algorithm.signatureAlgorithm());
    signature.initSign(key);
    signature.update(message);
    return signature.sign();
  }

  /** The JCA signature algorithm used, e.g. {@code SHA256withECDSA}. */
  public String signatureAlgorithm() {
    return algorithm.signatureAlgorithm();
  }

  @Override
  public String toString() {
    return "IdentitySigner[" + algorithm.signatureAlgorithm() + "]";
  }
}
