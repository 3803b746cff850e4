package io.consort.privacy.ledger;

import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Identity and chain checks for ledger signers, matching the consortium PKI's conventions: identity in
 * the subject CN, role in the subject OU ({@code participant}, {@code coordinator}, {@code operator},
 * {@code auditor}).
 */
public final class CertificateIdentity {

  /** OU of a bank's certificate. */
  public static final String ROLE_PARTICIPANT = "participant";
  /** OU of the coordinator's certificate. */
  public static final String ROLE_COORDINATOR = "coordinator";

  private CertificateIdentity() {}

  /** The subject CN; exactly one is required. */
  public static String commonName(X509Certificate certificate) {
    return single(certificate, "CN");
  }

  /** The subject OU (the role); exactly one is required. */
  public static String role(X509Certificate certificate) {
    return single(certificate, "OU");
  }

  /**
   * Validates that {@code certificate} chains to {@code ca} with the JDK's PKIX validator, at time
   * {@code at} (the time of the signed entry, so an auditor can check an old ledger after certificates
   * have expired). Revocation checking is disabled: offline verification has no CRL distribution
   * point to ask, and a certificate revoked after it signed does not invalidate an earlier entry. An
   * auditor who holds the consortium CRL should check the embedded certificates' serials against it.
   *
   * @throws GeneralSecurityException naming why the chain is not valid
   */
  public static void validateChain(X509Certificate certificate, X509Certificate ca, Instant at)
      throws GeneralSecurityException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> path = new ArrayList<>();
    path.add(certificate);
    CertPath certPath = factory.generateCertPath(path);
    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
    parameters.setRevocationEnabled(false);
    parameters.setDate(Date.from(at));
    CertPathValidator.getInstance("PKIX").validate(certPath, parameters);
    boolean[] keyUsage = certificate.getKeyUsage();
    if (keyUsage != null && !keyUsage[0]) {
      throw new GeneralSecurityException("certificate of " + commonName(certificate)
          + " does not allow digitalSignature");
    }
  }

  private static String single(X509Certificate certificate, String type) {
    String dn = certificate.getSubjectX500Principal().getName();
    try {
      String found = null;
      for (Rdn rdn : new LdapName(dn).getRdns()) {
        if (rdn.getType().equalsIgnoreCase(type)) {
          if (found != null) {
            throw new IllegalArgumentException("certificate subject must have one " + type + ", got " + dn);
          }
          found = rdn.getValue().toString();
        }
      }
      if (found == null) {
        throw new IllegalArgumentException("certificate subject must have a " + type + ", got " + dn);
      }
      return found;
    } catch (InvalidNameException e) {
      throw new IllegalArgumentException("certificate subject must be a valid X.500 name, got " + dn, e);
    }
  }
}
