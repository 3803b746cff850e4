package io.consort.secagg.crypto;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * An X25519 key pair (RFC 7748) with raw 32-byte encodings for the wire and for Shamir sharing of
 * the private scalar (Bonawitz et al. 2017, section 4: the masking secret key s_u^SK is secret-shared
 * so the server can recompute a dropped bank's pairwise masks).
 *
 * <p>The arithmetic is Bouncy Castle's RFC 7748 implementation ({@link X25519}): about 0.10 ms of CPU
 * per agreement against the JDK's (SunEC) 0.18 ms ({@code bench/scripts/IdentityCryptoCpu.java}), and a
 * bank agrees once per neighbour for its share ciphertexts and once per neighbour for its pairwise
 * masks. The results are the JDK's ({@code X25519KeyPairTest} compares them), including the
 * refusal of an all-zero shared secret (a small-order peer key, RFC 7748 section 6.1).
 */
public final class X25519KeyPair {
  /** Length of a raw public key (the little-endian u-coordinate) and of a private scalar. */
  public static final int KEY_BYTES = 32;

  private final SecretBytes privateScalar;
  private final byte[] publicKey;

  private X25519KeyPair(SecretBytes privateScalar, byte[] publicKey) {
    this.privateScalar = privateScalar;
    this.publicKey = publicKey;
  }

  /** A fresh key pair: a 32-byte scalar drawn from {@code random} (clamped, RFC 7748 section 5). */
  public static X25519KeyPair generate(SecureRandom random) {
    byte[] scalar = new byte[KEY_BYTES];
    X25519.generatePrivateKey(random, scalar);
    byte[] publicKey = new byte[KEY_BYTES];
    X25519.generatePublicKey(scalar, 0, publicKey, 0);
    return new X25519KeyPair(SecretBytes.adopt(scalar), publicKey);
  }

  /** The raw public key: 32 bytes, little-endian u-coordinate (RFC 7748, section 5). */
  public byte[] publicKeyBytes() {
    return publicKey.clone();
  }

  /** The raw private scalar, for Shamir sharing; the caller destroys the copy. */
  public SecretBytes privateScalar() {
    return SecretBytes.adopt(privateScalar.toByteArray());
  }

  /** X25519(own private key, peer public key); refuses an all-zero result (small-order peer key). */
  public SecretBytes agree(byte[] peerPublicKey) throws GeneralSecurityException {
    return agree(privateScalar, peerPublicKey);
  }

  /**
   * X25519 with a private scalar given as raw bytes, used by the server after it reconstructs a
   * dropped bank's masking key from Shamir shares. The peer key's top bit is ignored and a u-coordinate
   * of p or more is reduced, as RFC 7748 section 5 requires (and as the JDK does).
   *
   * @throws InvalidKeyException if the peer key is not 32 bytes, or the shared secret is all zeros
   *     (the peer key is a point of small order, RFC 7748 section 6.1)
   */
  public static SecretBytes agree(SecretBytes privateScalar, byte[] peerPublicKey) throws GeneralSecurityException {
    if (peerPublicKey == null || peerPublicKey.length != KEY_BYTES) {
      throw new InvalidKeyException("X25519 public key must be " + KEY_BYTES
          + " bytes, got " + (peerPublicKey == null ? "null" : peerPublicKey.length));
    }
    byte[] scalar = privateScalar.toByteArray();
    byte[] shared = new byte[KEY_BYTES];
    try {
      if (!X25519.calculateAgreement(scalar, 0, peerPublicKey, 0, shared, 0)) {
        throw new InvalidKeyException("X25519 shared secret is all zeros: the peer's public key is a point of "
            + "small order (RFC 7748 section 6.1)");
      }
      return SecretBytes.adopt(shared);
    } finally {
      Arrays.fill(scalar, (byte) 0);
    }
  }

  /**
   * The public key belonging to a raw private scalar. The server uses it to check that a
   * reconstructed masking key matches the key the bank advertised and signed.
   */
  public static byte[] publicKeyOf(SecretBytes privateScalar) {
    byte[] scalar = privateScalar.toByteArray();
    try {
      byte[] out = new byte[KEY_BYTES];
      X25519.generatePublicKey(scalar, 0, out, 0);
      return out;
    } finally {
      Arrays.fill(scalar, (byte) 0);
    }
  }

  /**
   * Overwrites the private scalar with zeros: a round that finished, aborted or was discarded leaves no
   * key on the heap from which its pairwise secrets could be recomputed. Later agreements fail.
   */
  public void destroy() {
    privateScalar.destroy();
  }

  /** Whether {@link #destroy()} was called. */
  public boolean isDestroyed() {
    return privateScalar.isDestroyed();
  }

  @Override
  public String toString() {
    return "X25519KeyPair[private key redacted]";
  }
}
