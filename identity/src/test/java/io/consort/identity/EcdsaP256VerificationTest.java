package io.consort.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link IdentityVerifier#signatureValid} checks P-256 signatures with Bouncy Castle
 * ({@link EcdsaP256Verifier}); every decision must be the JDK's (SunEC), on valid signatures and on
 * every way of altering one: tampered message, wrong key, each byte changed, truncated, extended,
 * re-encoded (BER lengths, padded or unpadded integers, high S, out-of-range r and s).
 */
class EcdsaP256VerificationTest {
  private static final byte[] MESSAGE =
      "consort.secagg.keys.v1 job-7 round 3 bank-12".getBytes(StandardCharsets.UTF_8);
  private static final BigInteger N = new BigInteger(
      "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);
  private static KeyPair keys;
  private static KeyPair otherKeys;

  @BeforeAll
  static void generateKeys() throws Exception {
    keys = KeyAlgorithm.EC_P256.generateKeyPair();
    otherKeys = KeyAlgorithm.EC_P256.generateKeyPair();
  }

  private static byte[] jdkSign(KeyPair pair, byte[] message) throws Exception {
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(pair.getPrivate());
    signer.update(message);
    return signer.sign();
  }

  private static boolean jdkVerifies(PublicKey key, byte[] message, byte[] signature) throws Exception {
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(key);
    verifier.update(message);
    try {
      return verifier.verify(signature);
    } catch (SignatureException malformed) {
      return false;
    }
  }

  private static void assertSameDecision(PublicKey key, byte[] message, byte[] signature, String what)
      throws Exception {
    boolean jdk = jdkVerifies(key, message, signature);
    assertEquals(jdk, IdentityVerifier.signatureValid(key, message, signature),
        what + ": the JDK " + (jdk ? "accepts" : "refuses") + " " + new BigInteger(1, signature).toString(16));
  }

  private static byte[] integer(BigInteger value) {
    return value.toByteArray(); // minimal two's complement: a leading 0x00 when the top bit is set
  }

  private static byte[] der(byte[] r, byte[] s) {
    byte[] out = new byte[6 + r.length + s.length];
    out[0] = 0x30;
    out[1] = (byte) (4 + r.length + s.length);
    out[2] = 0x02;
    out[3] = (byte) r.length;
    System.arraycopy(r, 0, out, 4, r.length);
    out[4 + r.length] = 0x02;
    out[5 + r.length] = (byte) s.length;
    System.arraycopy(s, 0, out, 6 + r.length, s.length);
    return out;
  }

  private static BigInteger[] rs(byte[] signature) {
    return EcdsaP256Verifier.decodeDer(signature);
  }

  @Test
  void validSignatures_verify_likeTheJdk() throws Exception {
    for (int i = 0; i < 50; i++) {
      byte[] message = ("message " + i).getBytes(StandardCharsets.UTF_8);
      byte[] signature = jdkSign(keys, message);
      assertTrue(IdentityVerifier.signatureValid(keys.getPublic(), message, signature), "signature " + i);
      assertSameDecision(keys.getPublic(), message, signature, "valid signature " + i);
    }
  }

  @Test
  void signatureIsRefused_whenMessageIsTamperedOrKeyIsAnotherBanks() throws Exception {
    byte[] signature = jdkSign(keys, MESSAGE);
    byte[] tampered = MESSAGE.clone();
    tampered[5] ^= 1;

    assertFalse(IdentityVerifier.signatureValid(keys.getPublic(), tampered, signature));
    assertFalse(IdentityVerifier.signatureValid(otherKeys.getPublic(), MESSAGE, signature));
    assertFalse(IdentityVerifier.signatureValid(keys.getPublic(), MESSAGE, jdkSign(otherKeys, MESSAGE)));
    assertSameDecision(keys.getPublic(), tampered, signature, "tampered message");
    assertSameDecision(otherKeys.getPublic(), MESSAGE, signature, "wrong key");
  }

  @Test
  void everySingleByteChange_truncationAndExtension_isDecidedLikeTheJdk() throws Exception {
    Random random = new Random(20261203); // seeded: the replacement bytes tried
    for (int n = 0; n < 2; n++) {
      byte[] signature = jdkSign(keys, MESSAGE);
      for (int i = 0; i < signature.length; i++) {
        for (int value : new int[] {0x00, 0x01, 0x7f, 0x80, 0x81, 0xff, random.nextInt(256),
            signature[i] ^ 0x01, signature[i] + 1, signature[i] - 1}) {
          byte[] changed = signature.clone();
          changed[i] = (byte) value;
          assertSameDecision(keys.getPublic(), MESSAGE, changed, "byte " + i + " set to " + value);
        }
        assertSameDecision(keys.getPublic(), MESSAGE, Arrays.copyOf(signature, i), "truncated to " + i);
      }
      byte[] extended = Arrays.copyOf(signature, signature.length + 1);
      assertSameDecision(keys.getPublic(), MESSAGE, extended, "a zero byte appended");
      assertFalse(IdentityVerifier.signatureValid(keys.getPublic(), MESSAGE, extended));
    }
    assertSameDecision(keys.getPublic(), MESSAGE, new byte[0], "empty");
  }

  @Test
  void reEncodedSignatures_areDecidedLikeTheJdk() throws Exception {
    List<byte[]> cases = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int n = 0; n < 8; n++) {
      byte[] signature = jdkSign(keys, MESSAGE);
      BigInteger[] rs = rs(signature);
      BigInteger r = rs[0];
      BigInteger s = rs[1];
      byte[] rBytes = integer(r);
      byte[] sBytes = integer(s);
      names.add("high/low S flipped (s' = n - s)");
      cases.add(der(rBytes, integer(N.subtract(s))));
      names.add("r with a redundant leading zero");
      cases.add(der(concat(new byte[] {0}, rBytes), sBytes));
      names.add("s with a redundant leading zero");
      cases.add(der(rBytes, concat(new byte[] {0}, sBytes)));
      names.add("r without its sign byte (negative in two's complement)");
      cases.add(der(rBytes[0] == 0 ? Arrays.copyOfRange(rBytes, 1, rBytes.length) : rBytes, sBytes));
      names.add("s + n");
      cases.add(der(rBytes, integer(s.add(N))));
      names.add("r + n");
      cases.add(der(integer(r.add(N)), sBytes));
      names.add("r = 0");
      cases.add(der(new byte[] {0}, sBytes));
      names.add("s = 0");
      cases.add(der(rBytes, new byte[] {0}));
      names.add("r = n");
      cases.add(der(integer(N), sBytes));
      names.add("s = n");
      cases.add(der(rBytes, integer(N)));
      names.add("r and s swapped");
      cases.add(der(sBytes, rBytes));
      names.add("sequence length in long form (0x81)");
      cases.add(concat(new byte[] {0x30, (byte) 0x81}, Arrays.copyOfRange(signature, 1, signature.length)));
      names.add("sequence length indefinite (BER) with end-of-contents");
      cases.add(concat(concat(new byte[] {0x30, (byte) 0x80}, Arrays.copyOfRange(signature, 2, signature.length)),
          new byte[] {0, 0}));
      names.add("r length in long form (0x81)");
      byte[] longR = concat(new byte[] {0x02, (byte) 0x81, (byte) rBytes.length}, rBytes);
      byte[] sPart = concat(new byte[] {0x02, (byte) sBytes.length}, sBytes);
      cases.add(concat(new byte[] {0x30, (byte) (longR.length + sPart.length)}, concat(longR, sPart)));
      names.add("a third integer in the sequence");
      byte[] three = concat(Arrays.copyOfRange(signature, 2, signature.length), new byte[] {0x02, 0x01, 0x01});
      cases.add(concat(new byte[] {0x30, (byte) three.length}, three));
      names.add("SET instead of SEQUENCE");
      byte[] set = signature.clone();
      set[0] = 0x31;
      cases.add(set);
      names.add("raw r || s (IEEE P1363) instead of DER");
      cases.add(concat(fixed32(r), fixed32(s)));
    }
    for (int i = 0; i < cases.size(); i++) {
      assertSameDecision(keys.getPublic(), MESSAGE, cases.get(i), names.get(i));
    }
  }

  @Test
  void highS_verifies_becauseTheJdkAcceptsIt() throws Exception {
    byte[] signature = jdkSign(keys, MESSAGE);
    BigInteger[] rs = rs(signature);
    byte[] flipped = der(integer(rs[0]), integer(N.subtract(rs[1])));

    assertTrue(jdkVerifies(keys.getPublic(), MESSAGE, flipped), "JDK 17 accepts (r, n - s); if a later JDK "
        + "refuses it, EcdsaP256Verifier must too");
    assertTrue(IdentityVerifier.signatureValid(keys.getPublic(), MESSAGE, flipped));
  }

  @Test
  void keyOnAnotherCurve_isRefusedWithInvalidKey() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp384r1"));
    KeyPair p384 = generator.generateKeyPair();
    byte[] signature = jdkSign(p384, MESSAGE);

    InvalidKeyException e = assertThrows(InvalidKeyException.class,
        () -> IdentityVerifier.signatureValid(p384.getPublic(), MESSAGE, signature));
    assertTrue(e.getMessage().contains("only P-256"), e.getMessage());
  }

  @Test
  void pointNotOnTheCurve_isRefusedWithInvalidKey() throws Exception {
    ECPublicKey valid = (ECPublicKey) keys.getPublic();
    ECPoint offCurve = new ECPoint(valid.getW().getAffineX(), valid.getW().getAffineY().add(BigInteger.ONE));
    PublicKey forged;
    try {
      forged = KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(offCurve, valid.getParams()));
    } catch (java.security.spec.InvalidKeySpecException refusedByTheJdk) {
      return; // the JDK already refuses to build such a key: nothing reaches the verifier
    }
    PublicKey key = forged;
    InvalidKeyException e = assertThrows(InvalidKeyException.class,
        () -> IdentityVerifier.signatureValid(key, MESSAGE, jdkSign(keys, MESSAGE)));
    assertTrue(e.getMessage().contains("not a valid P-256 point"), e.getMessage());
  }

  @Test
  void decodedKeys_areCached_withinTheBound() throws Exception {
    for (int i = 0; i < 5; i++) {
      KeyPair pair = KeyAlgorithm.EC_P256.generateKeyPair();
      assertTrue(IdentityVerifier.signatureValid(pair.getPublic(), MESSAGE, jdkSign(pair, MESSAGE)));
    }
    assertTrue(EcdsaP256Verifier.cachedKeys() >= 5);
    assertTrue(EcdsaP256Verifier.cachedKeys() <= EcdsaP256Verifier.KEY_CACHE_CAPACITY);
  }

  @Test
  void keyWhoseEncodingNamesACachedKey_butWhosePointIsAnother_isDecidedByItsPoint_likeTheJdk() throws Exception {
    ECPublicKey cachedKey = (ECPublicKey) keys.getPublic();
    ECPublicKey pointKey = (ECPublicKey) otherKeys.getPublic();
    byte[] byCachedKey = jdkSign(keys, MESSAGE);
    assertTrue(IdentityVerifier.signatureValid(cachedKey, MESSAGE, byCachedKey)); // its decoding is cached now
    ECPublicKey mixed = new ECPublicKey() {
      @Override
      public ECPoint getW() {
        return pointKey.getW();
      }

      @Override
      public java.security.spec.ECParameterSpec getParams() {
        return pointKey.getParams();
      }

      @Override
      public String getAlgorithm() {
        return "EC";
      }

      @Override
      public String getFormat() {
        return "X.509";
      }

      @Override
      public byte[] getEncoded() {
        return cachedKey.getEncoded();
      }
    };

    // the JDK verifies with getW(): the cached key's signature must not verify under the other point
    assertSameDecision(mixed, MESSAGE, byCachedKey, "signature by the key whose encoding the object carries");
    assertFalse(IdentityVerifier.signatureValid(mixed, MESSAGE, byCachedKey));
    assertSameDecision(mixed, MESSAGE, jdkSign(otherKeys, MESSAGE), "signature by the key whose point it carries");
  }

  private static byte[] fixed32(BigInteger value) {
    byte[] bytes = value.toByteArray();
    byte[] out = new byte[32];
    int copy = Math.min(32, bytes.length);
    System.arraycopy(bytes, bytes.length - copy, out, 32 - copy, copy);
    return out;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
