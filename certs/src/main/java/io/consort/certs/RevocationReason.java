package io.consort.certs;

import io.consort.identity.EnumNames;
import org.bouncycastle.asn1.x509.CRLReason;

/** Why a certificate was revoked (the subset of RFC 5280 section 5.3.1 reasons a consortium needs). */
public enum RevocationReason {
  UNSPECIFIED("unspecified", CRLReason.unspecified),
  KEY_COMPROMISE("key-compromise", CRLReason.keyCompromise),
  AFFILIATION_CHANGED("affiliation-changed", CRLReason.affiliationChanged),
  SUPERSEDED("superseded", CRLReason.superseded),
  CESSATION_OF_OPERATION("cessation-of-operation", CRLReason.cessationOfOperation);

  private final String cliName;
  private final int crlCode;

  RevocationReason(String cliName, int crlCode) {
    this.cliName = cliName;
    this.crlCode = crlCode;
  }

  /** Name used on the command line and in the CA index, e.g. {@code key-compromise}. */
  public String cliName() {
    return cliName;
  }

  /** The RFC 5280 CRLReason code. */
  int crlCode() {
    return crlCode;
  }

  public static RevocationReason fromCliName(String value) {
    return EnumNames.parse(RevocationReason.class, RevocationReason::cliName, value, "revocation reason");
  }

  @Override
  public String toString() {
    return cliName;
  }
}
