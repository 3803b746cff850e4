package io.consort.secagg.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.XECPrivateKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import javax.crypto.KeyAgreement;

/**
 * An X25519 key pair (RFC 7748) built on the JDK's SunEC provider, with raw 32-byte encodings for
 * the wire and for Shamir sharing of the private scalar (Bonawitz et al. 2017, section 4: the masking
 * secret key s_u^SK is secret-shared so the server can recompute a dropped bank's pairwise masks).
 */
public final class X25519KeyPair {
  /** Length of a raw public key (the little-endian u-coordinate) and of a private scalar. */
  public static final int KEY_BYTES = 32;

  private final PrivateKey privateKey;
  private final byte[] publicKey;

  private X25519KeyPair(PrivateKey privateKey, byte[] publicKey) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /** A fresh key pair; the JDK draws the 32-byte scalar from {@code random}. */
  public static X25519KeyPair generate(SecureRandom random) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("X25519");
      generator.initialize(NamedParameterSpec.X25519, random);
      KeyPair pair = generator.generateKeyPair();
      return new X25519KeyPair(pair.getPrivate(), encodePublic((XECPublicKey) pair.getPublic()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("X25519 is not available in this JDK", e);
    }
  }

  /** The raw public key: 32 bytes, little-endian u-coordinate (RFC 7748, section 5). */
  public byte[] publicKeyBytes() {
    return publicKey.clone();
  }

  /** The raw private scalar, for Shamir sharing. */
  public SecretBytes privateScalar() {
    byte[] scalar = ((XECPrivateKey) privateKey).getScalar()
        .orElseThrow(() -> new IllegalStateException("X25519 private key does not expose its scalar"));
    return SecretBytes.adopt(scalar);
  }

  /** X25519(own private key, peer public key); refuses an all-zero result (small-order peer key). */
  public SecretBytes agree(byte[] peerPublicKey) throws GeneralSecurityException {
    return agree(privateKey, peerPublicKey);
  }

  /**
   * X25519 with a private scalar given as raw bytes, used by the server after it reconstructs a
   * dropped bank's masking key from Shamir shares.
   */
  public static SecretBytes agree(SecretBytes privateScalar, byte[] peerPublicKey) throws GeneralSecurityException {
    byte[] scalar = privateScalar.toByteArray();
    try {
      PrivateKey key = KeyFactory.getInstance("X25519")
          .generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar));
      return agree(key, peerPublicKey);
    } finally {
      Arrays.fill(scalar, (byte) 0);
    }
  }

  /**
   * The public key belonging to a raw private scalar (Bouncy Castle's RFC 7748 base-point
   * multiplication; the JDK has no public API for it). The server uses it to check that a
   * reconstructed masking key matches the key the bank advertised and signed.
   */
  public static byte[] publicKeyOf(SecretBytes privateScalar) {
    byte[] scalar = privateScalar.toByteArray();
    try {
      byte[] out = new byte[KEY_BYTES];
      org.bouncycastle.math.ec.rfc7748.X25519.generatePublicKey(scalar, 0, out, 0);
      return out;
    } finally {
      Arrays.fill(scalar, (byte) 0);
    }
  }

  private static SecretBytes agree(PrivateKey key, byte[] peerPublicKey) throws GeneralSecurityException {
    KeyAgreement agreement = KeyAgreement.getInstance("X25519");
    agreement.init(key);
    agreement.doPhase(decodePublic(peerPublicKey), true);
    // SunEC throws if the result is all zeros (RFC 7748 section 6.1 check).
    return SecretBytes.adopt(agreement.generateSecret());
  }

  static PublicKey decodePublic(byte[] raw) throws GeneralSecurityException {
    if (raw == null || raw.length != KEY_BYTES) {
      throw new java.security.InvalidKeyException("X25519 public key must be " + KEY_BYTES
          + " bytes, got " + (raw == null ? "null" : raw.length));
    }
    byte[] bigEndian = new byte[KEY_BYTES];
    for (int i = 0; i < KEY_BYTES; i++) {
      bigEndian[i] = raw[KEY_BYTES - 1 - i];
    }
    bigEndian[0] &= 0x7f; // RFC 7748 section 5: the top bit of the u-coordinate is ignored
    BigInteger u = new BigInteger(1, bigEndian);
    return KeyFactory.getInstance("X25519").generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, u));
  }

  private static byte[] encodePublic(XECPublicKey key) {
    byte[] bigEndian = key.getU().toByteArray();
    byte[] out = new byte[KEY_BYTES];
    for (int i = 0; i < KEY_BYTES && i < bigEndian.length; i++) {
      out[i] = bigEndian[bigEndian.length - 1 - i];
    }
    return out;
  }

  @Override
  public String toString() {
    return "X25519KeyPair[private key redacted]";
  }
}
