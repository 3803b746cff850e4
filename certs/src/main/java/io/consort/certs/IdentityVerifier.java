package io.consort.certs;

import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.Set;

/**
 * Verifies a signature made by {@link IdentitySigner}: first the signer's certificate with a
 * {@link CertificateValidator} (consortium CA, validity, CRL, role), then the signature under the
 * certificate's key.
 */
public final class IdentityVerifier {
  private final CertificateValidator validator;

  public IdentityVerifier(CertificateValidator validator) {
    this.validator = Objects.requireNonNull(validator, "validator");
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
    PeerIdentity identity = validator.validate(signerCertificate, allowedRoles);
    KeyAlgorithm algorithm = KeyAlgorithm.of(signerCertificate.getPublicKey());
    Signature verifier = Signature.getInstance(algorithm.signatureAlgorithm());
    verifier.initVerify(signerCertificate.getPublicKey());
    verifier.update(message);
    boolean valid;
    try {
      valid = verifier.verify(signature);
    } catch (SignatureException e) {
      valid = false; // a malformed signature encoding is just an invalid signature
    }
    if (!valid) {
      throw new SignatureException("signature by " + identity + " does not verify");
    }
    return identity;
  }
}
