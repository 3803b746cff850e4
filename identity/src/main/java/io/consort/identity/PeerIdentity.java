package io.consort.identity;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Who a peer is, as its consortium certificate says: the identity name (subject CN, e.g.
 * {@code bank-a}), its {@link Role} and the certificate's serial number.
 *
 * @param name identity name, matching {@value #NAME_PATTERN}
 * @param role the role from the certificate's role extension
 * @param serial the certificate's serial number (to tell renewals apart and to revoke)
 */
public record PeerIdentity(String name, Role role, BigInteger serial) {
  /** Identity names: lower-case letters, digits and hyphens, 1 to 63 characters, no leading hyphen. */
  public static final String NAME_PATTERN = "[a-z0-9][a-z0-9-]{0,62}";

  private static final Pattern NAME = Pattern.compile(NAME_PATTERN);

  public PeerIdentity {
    requireValidName(name);
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(serial, "serial");
  }

  /**
   * Checks an identity name.
   *
   * @throws IllegalArgumentException naming the bad value and the rule
   */
  public static String requireValidName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("identity name: '" + name + "' must match " + NAME_PATTERN
          + " (lower-case letters, digits, hyphens; at most 63 characters)");
    }
    return name;
  }

  /**
   * Reads name and role from a certificate: the one place in Consort that says who a certificate
   * names. The name is the subject CN; the role is the {@link RoleExtension}'s, never a subject
   * field's; the subject OU must name the same role. Does not check who issued the certificate or
   * whether it is still valid (use {@link CertificateValidator} for that).
   *
   * @throws CertificateRejectedException if the CN is missing or not a valid identity name
   *     ({@code MALFORMED}), the role extension is missing or malformed ({@code MISSING_ROLE}), or
   *     the OU is missing ({@code MISSING_ROLE}) or disagrees with the extension ({@code MALFORMED})
   */
  public static PeerIdentity fromCertificate(X509Certificate certificate) throws CertificateRejectedException {
    Objects.requireNonNull(certificate, "certificate");
    String subject = certificate.getSubjectX500Principal().getName();
    X500Name x500 = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    String name = singleValue(x500, BCStyle.CN, subject, "CN");
    try {
      requireValidName(name);
    } catch (IllegalArgumentException e) {
      throw new CertificateRejectedException(CertificateRejectedException.Reason.MALFORMED, subject, e.getMessage());
    }
    Role role;
    try {
      role = RoleExtension.read(certificate).orElseThrow(() -> new CertificateRejectedException(
          CertificateRejectedException.Reason.MISSING_ROLE, subject,
          "no Consort role extension (" + RoleExtension.OID + ")"));
    } catch (IllegalArgumentException e) {
      throw new CertificateRejectedException(CertificateRejectedException.Reason.MISSING_ROLE, subject,
          e.getMessage(), e);
    }
    String organizationalUnit = singleValue(x500, BCStyle.OU, subject, "OU");
    if (!organizationalUnit.equals(role.wireName())) {
      throw new CertificateRejectedException(CertificateRejectedException.Reason.MALFORMED, subject, "subject OU '"
          + organizationalUnit + "' disagrees with the role extension '" + role.wireName() + "'");
    }
    return new PeerIdentity(name, role, certificate.getSerialNumber());
  }

  private static String singleValue(X500Name x500, ASN1ObjectIdentifier type, String subject, String label)
      throws CertificateRejectedException {
    RDN[] rdns = x500.getRDNs(type);
    if (rdns.length != 1 || rdns[0].isMultiValued()) {
      throw new CertificateRejectedException(
          label.equals("OU") ? CertificateRejectedException.Reason.MISSING_ROLE
              : CertificateRejectedException.Reason.MALFORMED,
          subject, "expected exactly one " + label + " in the subject but found " + rdns.length);
    }
    return IETFUtils.valueToString(rdns[0].getFirst().getValue());
  }

  @Override
  public String toString() {
    return name + " (" + role.wireName() + ", serial " + serial.toString(16) + ")";
  }
}
