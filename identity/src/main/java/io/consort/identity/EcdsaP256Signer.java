package io.consort.identity;

import java.io.IOException;
import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.security.SignatureException;
import java.security.interfaces.ECPrivateKey;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;

/**
 * SHA256withECDSA signing on P-256 with Bouncy Castle's lightweight API and deterministic nonces
 * (RFC 6979, {@link HMacDSAKCalculator} over HMAC-SHA256): {@code IdentityCryptoCpu} in
 * {@code bench/scripts} and {@code BankStageCpu} measured it at several times less CPU than the JDK's
 * SunEC (Bouncy Castle's fixed-point comb multiplication of the generator on its special-form P-256
 * arithmetic, with cache-safe table lookups). A bank signs its round keys, its survivor sets and its
 * ledger countersignatures, three signatures or more a round.
 *
 * <p>The output is what SunEC produces and accepts: a DER SEQUENCE of two minimal INTEGERs r and s in
 * [1, n - 1]; s is not normalised to the lower half, as with SunEC (both SunEC and
 * {@link EcdsaP256Verifier} accept either half). A deterministic nonce depends only on the key and the
 * message, so no weak random generator can leak the key (RFC 6979, section 1); the same message signed
 * twice gives the same signature, which reveals nothing the first did not.
 */
final class EcdsaP256Signer {
  private final ECPrivateKeyParameters key;

  /**
   * @param key a key {@link KeyAlgorithm#of} identified as P-256
   * @throws InvalidKeyException if the private scalar is not in [1, n - 1]
   */
  EcdsaP256Signer(ECPrivateKey key) throws InvalidKeyException {
    BigInteger d = key.getS();
    if (d == null || d.signum() <= 0 || d.compareTo(EcdsaP256Verifier.DOMAIN.getN()) >= 0) {
      throw new InvalidKeyException("EC private key is not a valid P-256 scalar (outside [1, n - 1])");
    }
    this.key = new ECPrivateKeyParameters(d, EcdsaP256Verifier.DOMAIN);
  }

  /** A DER-encoded signature of SHA-256({@code message}). */
  byte[] sign(byte[] message) throws SignatureException {
    SHA256Digest sha256 = new SHA256Digest();
    sha256.update(message, 0, message.length);
    byte[] digest = new byte[sha256.getDigestSize()];
    sha256.doFinal(digest, 0);
    ECDSASigner signer = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
    signer.init(true, key);
    BigInteger[] rs = signer.generateSignature(digest);
    try {
      return StandardDSAEncoding.INSTANCE.encode(EcdsaP256Verifier.DOMAIN.getN(), rs[0], rs[1]);
    } catch (IOException e) {
      throw new SignatureException("cannot DER-encode an ECDSA signature: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "EcdsaP256Signer[private key redacted]";
  }
}
