package io.consort.identity;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x509.Extension;

/**
 * The private, non-critical X.509 extension that carries a member's {@link Role}.
 *
 * <pre>
 * consortRole EXTENSION ::= { SYNTAX ConsortRole IDENTIFIED BY id-consort-role }
 * id-consort-role OBJECT IDENTIFIER ::= { 2 25 249730249203173458775755890188397916384 1 }
 * ConsortRole ::= UTF8String  -- "participant" | "coordinator" | "operator" | "auditor"
 * </pre>
 *
 * <p>The arc {@code 2.25.249730249203173458775755890188397916384} is a UUID-derived OID
 * (ITU-T X.667 / RFC 4122 section 4, UUID {@code bbe04be7-28e5-45e5-9154-5acd27a530e0}), which needs
 * no registration and cannot collide with anyone else's. Sub-arc {@code .1} is the role; further
 * Consort extensions take {@code .2}, {@code .3}, ... A changed value syntax takes a new sub-arc.
 * Non-critical so that generic TLS stacks that do not know it still accept the certificate.
 */
public final class RoleExtension {
  /** {@code 2.25.249730249203173458775755890188397916384}: Consort's UUID-derived private arc. */
  public static final String CONSORT_ARC = "2.25.249730249203173458775755890188397916384";
  /** The role extension's OID, as a dotted string. */
  public static final String OID = CONSORT_ARC + ".1";

  private static final ASN1ObjectIdentifier IDENTIFIER = new ASN1ObjectIdentifier(OID);

  private RoleExtension() {
  }

  /** Builds the extension (non-critical), for the CA to put into the certificates it issues. */
  public static Extension extension(Role role) throws IOException {
    return new Extension(IDENTIFIER, false, new DERUTF8String(role.wireName()).getEncoded());
  }

  /**
   * Reads the role from a certificate.
   *
   * @return empty if the extension is absent
   * @throws IllegalArgumentException if present but malformed or naming an unknown role (the
   *     message gives the bad value)
   */
  public static Optional<Role> read(X509Certificate certificate) {
    byte[] wrapped = certificate.getExtensionValue(OID);
    if (wrapped == null) {
      return Optional.empty();
    }
    ASN1Primitive inner;
    try {
      inner = ASN1Primitive.fromByteArray(ASN1OctetString.getInstance(wrapped).getOctets());
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("role extension " + OID + " is not valid DER", e);
    }
    if (!(inner instanceof DERUTF8String)) {
      throw new IllegalArgumentException("role extension " + OID + " is not a UTF8String");
    }
    return Optional.of(Role.fromWireName(((DERUTF8String) inner).getString()));
  }
}
