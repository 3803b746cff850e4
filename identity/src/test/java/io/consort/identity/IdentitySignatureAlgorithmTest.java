package io.consort.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The key-to-algorithm rule every signer and verifier in Consort shares: the key's type fixes the
 * algorithm, keys the consortium does not accept are refused on both sides, and a signature made
 * any other way does not verify. Certificates and roles are tested with the real CA in {@code certs}.
 */
class IdentitySignatureAlgorithmTest {
  private static final byte[] MESSAGE = "consort.ledger.countersignature.v1 entry 7".getBytes(StandardCharsets.UTF_8);

  private static KeyPair ec(String curve) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec(curve));
    return generator.generateKeyPair();
  }

  private static KeyPair rsa(int bits) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(bits);
    return generator.generateKeyPair();
  }

  @ParameterizedTest
  @EnumSource(KeyAlgorithm.class)
  void signatureValid_isTrue_forSignatureOfEveryAcceptedKeyType(KeyAlgorithm algorithm) throws Exception {
    KeyPair keys = algorithm.generateKeyPair();
    IdentitySigner signer = new IdentitySigner(keys.getPrivate());

    byte[] signature = signer.sign(MESSAGE);

    assertEquals(algorithm, signer.keyAlgorithm());
    assertEquals(algorithm.signatureAlgorithm(), signer.signatureAlgorithm());
    assertTrue(IdentityVerifier.signatureValid(keys.getPublic(), MESSAGE, signature));
  }

  @Test
  void keyAlgorithm_fixesTheSignatureAlgorithm_perKeyType() {
    assertEquals("SHA256withECDSA", KeyAlgorithm.EC_P256.signatureAlgorithm());
    assertEquals("SHA256withRSA", KeyAlgorithm.RSA_3072.signatureAlgorithm());
    assertEquals("Ed25519", KeyAlgorithm.ED25519.signatureAlgorithm());
  }

  @Test
  void signer_refusesKey_whenCurveIsNotP256() throws Exception {
    KeyPair p384 = ec("secp384r1");

    InvalidKeyException e = assertThrows(InvalidKeyException.class, () -> new IdentitySigner(p384.getPrivate()));

    assertTrue(e.getMessage().contains("field size 384 bits"), e.getMessage());
  }

  @Test
  void signatureValid_refusesKey_whenRsaIsUnder2048Bits() throws Exception {
    KeyPair weak = rsa(1024);
    Signature raw = Signature.getInstance("SHA256withRSA");
    raw.initSign(weak.getPrivate());
    raw.update(MESSAGE);
    byte[] signature = raw.sign();

    InvalidKeyException e = assertThrows(InvalidKeyException.class,
        () -> IdentityVerifier.signatureValid(weak.getPublic(), MESSAGE, signature));

    assertTrue(e.getMessage().contains("RSA key of 1024 bits is too weak"), e.getMessage());
  }

  @Test
  void signatureValid_isFalse_whenMadeWithAnotherAlgorithmThanTheKeyFixes() throws Exception {
    KeyPair keys = ec("secp256r1");
    Signature sha1 = Signature.getInstance("SHA1withECDSA");
    sha1.initSign(keys.getPrivate());
    sha1.update(MESSAGE);

    assertFalse(IdentityVerifier.signatureValid(keys.getPublic(), MESSAGE, sha1.sign()));
  }

  @Test
  void signatureValid_isFalse_whenSignedByAnotherKeyOrMessageAltered() throws Exception {
    KeyPair mine = ec("secp256r1");
    KeyPair other = ec("secp256r1");
    byte[] signature = new IdentitySigner(mine.getPrivate()).sign(MESSAGE);
    byte[] altered = MESSAGE.clone();
    altered[0] ^= 1;

    assertFalse(IdentityVerifier.signatureValid(other.getPublic(), MESSAGE, signature));
    assertFalse(IdentityVerifier.signatureValid(mine.getPublic(), altered, signature));
    assertTrue(IdentityVerifier.signatureValid(mine.getPublic(), MESSAGE, signature));
  }

  @Test
  void signatureValid_isFalse_whenSignatureIsNotWellFormed() throws Exception {
    KeyPair keys = ec("secp256r1");

    assertFalse(IdentityVerifier.signatureValid(keys.getPublic(), MESSAGE, new byte[] {0x30, 0x01, 0x00}));
    assertFalse(IdentityVerifier.signatureValid(keys.getPublic(), MESSAGE, new byte[0]));
  }

  @Test
  void toString_namesTheAlgorithmOnly_neverTheKey() throws Exception {
    IdentitySigner signer = new IdentitySigner(ec("secp256r1").getPrivate());

    assertEquals("IdentitySigner[SHA256withECDSA, private key redacted]", signer.toString());
  }

  @Test
  void roleExtension_isDerUtf8StringOfTheWireName() throws Exception {
    for (Role role : Role.values()) {
      assertArrayEquals(("\u000c" + (char) role.wireName().length() + role.wireName()).getBytes(StandardCharsets.US_ASCII),
          RoleExtension.extension(role).getExtnValue().getOctets());
    }
  }
}
