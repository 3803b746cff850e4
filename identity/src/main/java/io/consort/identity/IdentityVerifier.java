package io.consort.identity;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Verifies a signature made by {@link IdentitySigner}: first the signer's certificate with a
 * {@link CertificateValidator} (consortium CA, validity, CRL, key, role), then the signature under
 * the certificate's key with the algorithm that key fixes.
 *
 * <p>Security guarantees: a signature is accepted only with the algorithm the key's type fixes
 * ({@link KeyAlgorithm}), so a signer cannot choose a weaker one; a malformed signature encoding is
 * an invalid signature, never an error that callers might treat differently.
 */
public final class IdentityVerifier {
  private final Supplier<CertificateValidator> validator;

  public IdentityVerifier(CertificateValidator validator) {
    Objects.requireNonNull(validator, "validator");
    this.validator = () -> validator;
  }

  /**
   * A verifier that asks {@code validators} for the validator on every verification, so a CRL that
   * is re-issued while the process runs (a reloading supplier) takes effect at once.
   */
  public IdentityVerifier(Supplier<CertificateValidator> validators) {
    this.validator = Objects.requireNonNull(validators, "validators");
  }

  /**
   * @param signerCertificate the certificate the signer claims
   * @param allowedRoles roles whose signatures are acceptable here
   * @return the signer's identity
   * @throws CertificateRejectedException if the certificate fails validation
   * @throws SignatureException naming the signer if the signature does not verify
   */
  public PeerIdentity verify(X509Certificate signerCertificate, byte[] message, byte[] signature,
      Set<Role> allowedRoles) throws GeneralSecurityException {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(signature, "signature");
    PeerIdentity identity = validator.get().validate(signerCertificate, allowedRoles);
    if (!signatureValid(signerCertificate.getPublicKey(), message, signature)) {
      throw new SignatureException("signature by " + identity + " does not verify");
    }
    return identity;
  }

  /**
   * Checks a signature under a key the caller already trusts (one from a certificate it has
   * validated, or a pinned key in a simulation), with the algorithm the key's type fixes. P-256
   * signatures are checked with Bouncy Castle's lightweight ECDSA ({@link EcdsaP256Verifier}: the same
   * accept/refuse decisions as the JDK's SunEC, about 13 times less CPU), the others with the JDK.
   *
   * @return false if the signature does not verify or is not even well-formed
   * @throws InvalidKeyException naming the key type, curve or size the consortium does not accept
   */
  public static boolean signatureValid(PublicKey key, byte[] message, byte[] signature)
      throws GeneralSecurityException {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(signature, "signature");
    KeyAlgorithm algorithm = KeyAlgorithm.of(key);
    if (algorithm == KeyAlgorithm.EC_P256 && key instanceof ECPublicKey) {
      return EcdsaP256Verifier.verify((ECPublicKey) key, message, signature);
    }
    Signature verifier = Signature.getInstance(algorithm.signatureAlgorithm());
    verifier.initVerify(key);
    verifier.update(message);
    try {
      return verifier.verify(signature);
    } catch (SignatureException malformed) {
      return false; // a malformed signature encoding is just an invalid signature
    }
  }
}
