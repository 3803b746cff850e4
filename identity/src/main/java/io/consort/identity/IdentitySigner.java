package io.consort.identity;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.util.Objects;

/**
 * Signs bytes with a member's consortium private key, so that peers can check them against the
 * member's certificate ({@link IdentityVerifier}). Signs secure-aggregation key advertisements and
 * survivor sets, and privacy-ledger entries, countersignatures and export heads.
 *
 * <p>The algorithm follows the key ({@link KeyAlgorithm#signatureAlgorithm()}): SHA256withECDSA
 * for P-256, SHA256withRSA for RSA, Ed25519 for Ed25519; other keys are refused when the signer is
 * made. P-256 keys whose scalar the JDK exposes ({@link ECPrivateKey}) are signed with Bouncy Castle
 * and RFC 6979 deterministic nonces ({@link EcdsaP256Signer}: several times less CPU than SunEC, the
 * same signature format, verified by SunEC and by {@link IdentityVerifier}); other keys with the JDK.
 * Callers should put a context label (protocol, job, round, stage) inside the signed bytes
 * so a signature made for one purpose cannot be replayed for another. The key never appears in
 * {@link #toString()} or logs.
 */
public final class IdentitySigner {
  private final PrivateKey key;
  private final KeyAlgorithm algorithm;
  /** The P-256 fast path, or null for the JDK's signature. */
  private final EcdsaP256Signer p256;

  /**
   * @throws InvalidKeyException naming the key type, curve or size the consortium does not accept
   */
  public IdentitySigner(PrivateKey key) throws InvalidKeyException {
    this.key = Objects.requireNonNull(key, "key");
    this.algorithm = KeyAlgorithm.of(key);
    this.p256 = algorithm == KeyAlgorithm.EC_P256 && key instanceof ECPrivateKey ec ? new EcdsaP256Signer(ec) : null;
  }

  /**
   * Signs {@code message}. P-256 signatures use deterministic nonces (RFC 6979): the same message gives
   * the same signature.
   */
  public byte[] sign(byte[] message) throws GeneralSecurityException {
    Objects.requireNonNull(message, "message");
    if (p256 != null) {
      return p256.sign(message);
    }
    Signature signature = Signature.getInstance(algorithm.signatureAlgorithm());
    signature.initSign(key);
    signature.update(message);
    return signature.sign();
  }

  /** The key's type, which fixes the signature algorithm. */
  public KeyAlgorithm keyAlgorithm() {
    return algorithm;
  }

  /** The JCA signature algorithm used, e.g. {@code SHA256withECDSA}. */
  public String signatureAlgorithm() {
    return algorithm.signatureAlgorithm();
  }

  @Override
  public String toString() {
    return "IdentitySigner[" + algorithm.signatureAlgorithm() + ", private key redacted]";
  }
}
