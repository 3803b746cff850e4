package io.consort.identity;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.InvalidKeyException;
import java.security.interfaces.ECPublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;

/**
 * SHA256withECDSA verification on P-256 with Bouncy Castle's lightweight API, accepting exactly the
 * signatures the JDK's SunEC provider accepts: about 0.1 ms of CPU per verification against SunEC's
 * 1.3 ms ({@code bench/scripts/IdentityCryptoCpu.java}; Bouncy Castle's special-form P-256 arithmetic,
 * and each key decoded once). With 100 banks every bank verifies each neighbour's key advertisement
 * and a quorum of survivor-set signatures in every sum, which made verification most
 * of a round's CPU.
 *
 * <p>Equivalence with SunEC (JDK 17), checked by {@code EcdsaP256VerificationTest} against the JDK on
 * valid, tampered and re-encoded signatures: the signature must be a DER SEQUENCE of exactly two
 * INTEGERs with definite, minimal lengths, no redundant leading zero byte in either integer, and
 * nothing after the sequence; like SunEC an integer is read as unsigned (a positive value whose
 * leading 0x00 is missing still verifies) and (r, s) and (r, n - s) both verify (ECDSA signatures
 * are malleable in the JDK too); r and s must lie in [1, n - 1].
 */
final class EcdsaP256Verifier {
  private static final X9ECParameters P256 = CustomNamedCurves.getByName("secp256r1");
  /** P-256 with Bouncy Castle's special-form arithmetic; {@link EcdsaP256Signer} signs on it too. */
  static final ECDomainParameters DOMAIN = new ECDomainParameters(P256);
  /** How many decoded public keys are kept (least recently used first out): a key is a fixed fact. */
  static final int KEY_CACHE_CAPACITY = 1024;
  private static final Map<ByteBuffer, ECPublicKeyParameters> KEYS =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, ECPublicKeyParameters> eldest) {
          return size() > KEY_CACHE_CAPACITY;
        }
      };

  private EcdsaP256Verifier() {}

  /**
   * @param key a key {@link KeyAlgorithm#of} identified as P-256
   * @return false for a signature that does not verify or is not well-formed DER
   * @throws InvalidKeyException if the key's point is not a valid P-256 public point
   */
  static boolean verify(ECPublicKey key, byte[] message, byte[] signature) throws InvalidKeyException {
    BigInteger[] rs = decodeDer(signature);
    if (rs == null) {
      return false;
    }
    ECDSASigner verifier = new ECDSASigner();
    verifier.init(false, decoded(key));
    SHA256Digest sha256 = new SHA256Digest();
    sha256.update(message, 0, message.length);
    byte[] digest = new byte[sha256.getDigestSize()];
    sha256.doFinal(digest, 0);
    return verifier.verifySignature(digest, rs[0], rs[1]); // refuses r, s outside [1, n - 1]
  }

  /** How many keys the cache holds now (for tests). */
  static int cachedKeys() {
    synchronized (KEYS) {
      return KEYS.size();
    }
  }

  /**
   * The key's point, decoded and validated once. The cache is keyed by the point's own coordinates, the
   * values it decodes, never by another view of the key ({@code getEncoded()} of an {@link ECPublicKey}
   * need not describe the same point as {@code getW()}, which is what the JDK verifies with).
   */
  private static ECPublicKeyParameters decoded(ECPublicKey key) throws InvalidKeyException {
    java.security.spec.ECPoint w = key.getW();
    BigInteger x = w.getAffineX();
    BigInteger y = w.getAffineY();
    if (x == null || y == null) {
      throw new InvalidKeyException("EC public key is not a valid P-256 point: the point at infinity");
    }
    ByteBuffer id = pointId(x, y);
    synchronized (KEYS) {
      ECPublicKeyParameters cached = KEYS.get(id);
      if (cached != null) {
        return cached;
      }
    }
    ECPublicKeyParameters parameters;
    try {
      // validates the point: on the curve, not infinity, in the prime-order group
      parameters = new ECPublicKeyParameters(P256.getCurve().createPoint(x, y), DOMAIN);
    } catch (IllegalArgumentException e) {
      throw new InvalidKeyException("EC public key is not a valid P-256 point: " + e.getMessage(), e);
    }
    synchronized (KEYS) {
      KEYS.put(id, parameters);
    }
    return parameters;
  }

  /** x and y as two length-prefixed two's-complement byte strings: distinct points give distinct ids. */
  private static ByteBuffer pointId(BigInteger x, BigInteger y) {
    byte[] xb = x.toByteArray();
    byte[] yb = y.toByteArray();
    return ByteBuffer.allocate(8 + xb.length + yb.length).putInt(xb.length).put(xb).putInt(yb.length).put(yb).flip();
  }

  /** r and s of a strict-DER ECDSA signature (as SunEC reads it), or null if it is malformed. */
  static BigInteger[] decodeDer(byte[] der) {
    Reader in = new Reader(der);
    if (in.tag() != 0x30) {
      return null;
    }
    int sequenceLength = in.length();
    if (sequenceLength < 0 || sequenceLength != in.remaining()) {
      return null; // truncated, or bytes after the sequence
    }
    BigInteger r = in.integer();
    BigInteger s = r == null ? null : in.integer();
    if (s == null || in.remaining() != 0) {
      return null;
    }
    return new BigInteger[] {r, s};
  }

  /** A cursor over DER bytes; every read returns -1 or null on malformed input. */
  private static final class Reader {
    private final byte[] bytes;
    private int position;

    Reader(byte[] bytes) {
      this.bytes = bytes;
    }

    int remaining() {
      return bytes.length - position;
    }

    int tag() {
      return position < bytes.length ? bytes[position++] & 0xff : -1;
    }

    /** A definite length in its minimal form (X.690 section 10.1), at most what is left. */
    int length() {
      if (position >= bytes.length) {
        return -1;
      }
      int first = bytes[position++] & 0xff;
      if (first < 0x80) {
        return first <= remaining() ? first : -1;
      }
      int count = first & 0x7f;
      if (count == 0 || count > 3 || count > remaining() || bytes[position] == 0) {
        return -1; // indefinite (BER), absurdly long, or with a leading zero byte
      }
      int value = 0;
      for (int i = 0; i < count; i++) {
        value = (value << 8) | (bytes[position++] & 0xff);
      }
      return value >= 0x80 && value <= remaining() ? value : -1; // short form was required below 128
    }

    /** An INTEGER read as unsigned, refused if empty or with a redundant leading zero byte. */
    BigInteger integer() {
      if (tag() != 0x02) {
        return null;
      }
      int length = length();
      if (length <= 0) {
        return null;
      }
      if (length >= 2 && bytes[position] == 0 && bytes[position + 1] >= 0) {
        return null;
      }
      BigInteger value = new BigInteger(1, bytes, position, length);
      position += length;
      return value;
    }
  }
}
