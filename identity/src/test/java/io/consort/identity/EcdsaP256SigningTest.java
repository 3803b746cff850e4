package io.consort.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import org.junit.jupiter.api.Test;

/**
 * {@link IdentitySigner} signs P-256 with Bouncy Castle and RFC 6979 nonces ({@link EcdsaP256Signer});
 * its signatures must verify with the JDK's SunEC and with {@link IdentityVerifier} ({@link
 * EcdsaP256Verifier}), the JDK's must still verify with ours, and an altered signature or message must
 * be refused by both.
 */
class EcdsaP256SigningTest {
  private static final byte[] MESSAGE =
      "consort.ledger.countersignature.v1 job-7 entry 12 bank-03".getBytes(StandardCharsets.UTF_8);

  private static boolean jdkVerifies(PublicKey key, byte[] message, byte[] signature) throws Exception {
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(key);
    verifier.update(message);
    try {
      return verifier.verify(signature);
    } catch (java.security.SignatureException malformed) {
      return false;
    }
  }

  private static byte[] jdkSign(PrivateKey key, byte[] message) throws Exception {
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key);
    signer.update(message);
    return signer.sign();
  }

  @Test
  void identitySignerSignature_verifiesWithSunEcAndWithConsortsVerifier_overManyKeysAndMessages() throws Exception {
    for (int k = 0; k < 20; k++) {
      KeyPair keys = KeyAlgorithm.EC_P256.generateKeyPair();
      IdentitySigner signer = new IdentitySigner(keys.getPrivate());
      for (int m = 0; m < 10; m++) {
        byte[] message = (new String(MESSAGE, StandardCharsets.UTF_8) + " #" + m).getBytes(StandardCharsets.UTF_8);

        byte[] signature = signer.sign(message);

        assertTrue(jdkVerifies(keys.getPublic(), message, signature), "SunEC refused key " + k + " message " + m);
        assertTrue(IdentityVerifier.signatureValid(keys.getPublic(), message, signature),
            "EcdsaP256Verifier refused key " + k + " message " + m);
      }
    }
  }

  @Test
  void sunEcSignature_stillVerifiesWithConsortsVerifier() throws Exception {
    KeyPair keys = KeyAlgorithm.EC_P256.generateKeyPair();

    byte[] signature = jdkSign(keys.getPrivate(), MESSAGE);

    assertTrue(IdentityVerifier.signatureValid(keys.getPublic(), MESSAGE, signature));
  }

  @Test
  void tamperedSignatureOrMessage_isRefused_bySunEcAndConsortsVerifier() throws Exception {
    KeyPair keys = KeyAlgorithm.EC_P256.generateKeyPair();
    byte[] signature = new IdentitySigner(keys.getPrivate()).sign(MESSAGE);
    byte[] altered = MESSAGE.clone();
    altered[altered.length - 1] ^= 1;

    assertFalse(jdkVerifies(keys.getPublic(), altered, signature));
    assertFalse(IdentityVerifier.signatureValid(keys.getPublic(), altered, signature));
    for (int i = 0; i < signature.length; i++) {
      byte[] tampered = signature.clone();
      tampered[i] ^= 0x01;
      assertFalse(jdkVerifies(keys.getPublic(), MESSAGE, tampered), "SunEC accepted a change at byte " + i);
      assertFalse(IdentityVerifier.signatureValid(keys.getPublic(), MESSAGE, tampered),
          "EcdsaP256Verifier accepted a change at byte " + i);
    }
  }

  @Test
  void signature_isRfc6979sDeterministicVector_forP256WithSha256() throws Exception {
    // RFC 6979, appendix A.2.5: P-256, SHA-256, message "sample"
    AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
    parameters.init(new ECGenParameterSpec("secp256r1"));
    ECParameterSpec p256 = parameters.getParameterSpec(ECParameterSpec.class);
    KeyFactory factory = KeyFactory.getInstance("EC");
    PrivateKey key = factory.generatePrivate(new ECPrivateKeySpec(
        new BigInteger("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721", 16), p256));
    PublicKey publicKey = factory.generatePublic(new ECPublicKeySpec(new ECPoint(
        new BigInteger("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6", 16),
        new BigInteger("7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299", 16)), p256));
    byte[] sample = "sample".getBytes(StandardCharsets.US_ASCII);
    IdentitySigner signer = new IdentitySigner(key);

    byte[] signature = signer.sign(sample);

    BigInteger[] rs = EcdsaP256Verifier.decodeDer(signature);
    assertEquals(new BigInteger("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716", 16), rs[0]);
    // s above n/2: not normalised to the lower half, as SunEC does not, and SunEC accepts it
    assertEquals(new BigInteger("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8", 16), rs[1]);
    assertArrayEquals(signature, signer.sign(sample));
    assertTrue(jdkVerifies(publicKey, sample, signature));
    assertTrue(IdentityVerifier.signatureValid(publicKey, sample, signature));
  }

  @Test
  void signature_isMinimalDer_thatTheStrictDecoderReads() throws Exception {
    KeyPair keys = KeyAlgorithm.EC_P256.generateKeyPair();
    IdentitySigner signer = new IdentitySigner(keys.getPrivate());
    for (int m = 0; m < 200; m++) {
      byte[] message = ("minimal " + m).getBytes(StandardCharsets.US_ASCII);

      byte[] signature = signer.sign(message);

      BigInteger[] rs = EcdsaP256Verifier.decodeDer(signature);
      assertTrue(rs != null && rs[0].signum() > 0 && rs[1].signum() > 0, "not strict DER: message " + m);
      assertEquals(signature[1] + 2, signature.length, "sequence length of message " + m);
    }
  }
}
