package io.consort.secagg.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.HexFormat;
import javax.crypto.KeyAgreement;
import org.junit.jupiter.api.Test;

/**
 * X25519 on Bouncy Castle's RFC 7748 code gives the RFC's vector and the JDK's (SunEC) result for the
 * same scalar and peer key, including keys with the ignored top bit set and non-canonical
 * u-coordinates, and refuses the all-zero shared secret of a small-order peer key as the JDK does.
 */
class X25519KeyPairTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));

  /** The JDK's X25519, decoding the peer key as RFC 7748 section 5 says (top bit ignored). */
  private static byte[] jdkAgree(byte[] scalar, byte[] peer) throws Exception {
    byte[] bigEndian = new byte[32];
    for (int i = 0; i < 32; i++) {
      bigEndian[i] = peer[31 - i];
    }
    bigEndian[0] &= 0x7f;
    KeyFactory factory = KeyFactory.getInstance("X25519");
    KeyAgreement agreement = KeyAgreement.getInstance("X25519");
    agreement.init(factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar)));
    agreement.doPhase(factory.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519,
        new BigInteger(1, bigEndian))), true);
    return agreement.generateSecret();
  }

  private static byte[] littleEndian(BigInteger u) {
    byte[] bigEndian = u.toByteArray();
    byte[] out = new byte[32];
    for (int i = 0; i < 32 && i < bigEndian.length; i++) {
      out[i] = bigEndian[bigEndian.length - 1 - i];
    }
    return out;
  }

  @Test
  void agreement_matchesRfc7748Vector() throws Exception {
    SecretBytes alice = SecretBytes.copyOf(HEX.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    SecretBytes bob = SecretBytes.copyOf(HEX.parseHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));

    assertArrayEquals(HEX.parseHex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
        X25519KeyPair.publicKeyOf(alice));
    byte[] shared = X25519KeyPair.agree(alice, X25519KeyPair.publicKeyOf(bob)).toByteArray();
    assertArrayEquals(HEX.parseHex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"), shared);
    assertArrayEquals(shared, X25519KeyPair.agree(bob, X25519KeyPair.publicKeyOf(alice)).toByteArray());
  }

  @Test
  void agreement_equalsTheJdks_forFreshKeyPairs() throws Exception {
    SecureRandom random = new SecureRandom();
    for (int i = 0; i < 20; i++) {
      X25519KeyPair ours = X25519KeyPair.generate(random);
      X25519KeyPair peer = X25519KeyPair.generate(random);
      byte[] scalar = ours.privateScalar().toByteArray();

      byte[] shared = ours.agree(peer.publicKeyBytes()).toByteArray();

      assertArrayEquals(jdkAgree(scalar, peer.publicKeyBytes()), shared);
      assertArrayEquals(shared, peer.agree(ours.publicKeyBytes()).toByteArray());
      assertArrayEquals(ours.publicKeyBytes(), X25519KeyPair.publicKeyOf(ours.privateScalar()));
    }
  }

  @Test
  void agreement_equalsTheJdks_forTopBitSetAndNonCanonicalU() throws Exception {
    SecureRandom random = new SecureRandom();
    X25519KeyPair ours = X25519KeyPair.generate(random);
    byte[] scalar = ours.privateScalar().toByteArray();
    byte[] peer = X25519KeyPair.generate(random).publicKeyBytes();
    byte[] topBit = peer.clone();
    topBit[31] |= (byte) 0x80;
    byte[] nonCanonical = littleEndian(P.add(BigInteger.valueOf(9))); // p + 9, which is 9 (the base point)

    assertArrayEquals(jdkAgree(scalar, topBit), ours.agree(topBit).toByteArray());
    assertArrayEquals(ours.agree(peer).toByteArray(), ours.agree(topBit).toByteArray());
    assertArrayEquals(jdkAgree(scalar, nonCanonical), ours.agree(nonCanonical).toByteArray());
    assertArrayEquals(ours.agree(littleEndian(BigInteger.valueOf(9))).toByteArray(),
        ours.agree(nonCanonical).toByteArray());
  }

  @Test
  void agreement_isRefused_forSmallOrderPeerKeys_likeTheJdk() throws Exception {
    X25519KeyPair ours = X25519KeyPair.generate(new SecureRandom());
    byte[] scalar = ours.privateScalar().toByteArray();
    byte[][] smallOrder = {
        new byte[32], // u = 0
        littleEndian(BigInteger.ONE), // u = 1
        HEX.parseHex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"), // order 8
        littleEndian(P), // p, which is 0
        littleEndian(P.add(BigInteger.ONE)), // p + 1, which is 1
    };
    for (byte[] key : smallOrder) {
      InvalidKeyException refused = assertThrows(InvalidKeyException.class, () -> ours.agree(key),
          HEX.formatHex(key));
      assertTrue(refused.getMessage().contains("small order"), refused.getMessage());
      assertThrows(InvalidKeyException.class, () -> jdkAgree(scalar, key), "the JDK refuses " + HEX.formatHex(key));
    }
  }

  @Test
  void agreement_isRefused_forAKeyThatIsNot32Bytes() {
    X25519KeyPair ours = X25519KeyPair.generate(new SecureRandom());

    InvalidKeyException refused = assertThrows(InvalidKeyException.class, () -> ours.agree(new byte[31]));
    assertTrue(refused.getMessage().contains("must be 32 bytes, got 31"), refused.getMessage());
  }

  @Test
  void destroyedKeyPair_zeroesItsScalar_andRefusesToAgree() throws Exception {
    X25519KeyPair pair = X25519KeyPair.generate(new SecureRandom());
    byte[] peer = X25519KeyPair.generate(new SecureRandom()).publicKeyBytes();
    pair.agree(peer).destroy();

    pair.destroy();

    assertTrue(pair.isDestroyed());
    assertThrows(IllegalStateException.class, () -> pair.agree(peer));
    assertThrows(IllegalStateException.class, pair::privateScalar);
  }

  @Test
  void toString_doesNotRevealThePrivateKey() {
    assertTrue(X25519KeyPair.generate(new SecureRandom()).toString().contains("redacted"));
  }
}
